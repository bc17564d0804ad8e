// A small GraphQL client for the console pages (GraphiQL, /ops): POST for queries and mutations,
// graphql-transport-ws for subscriptions, the token in `Authorization` (HTTP) and in the
// connection_init payload (WebSocket). No dependencies, no build step.
(function () {
  "use strict";

  function wsUrl(httpUrl) {
    const url = new URL(httpUrl, window.location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    url.hash = "";
    return url.toString();
  }

  async function post(url, body, headers) {
    const response = await fetch(url, {
      method: "POST",
      headers: Object.assign({ "content-type": "application/json", accept: "application/json" }, headers || {}),
      body: JSON.stringify(body),
    });
    return response.json();
  }

  // One socket per subscription: simple, and a closed socket ends only its own stream.
  // sink: {next(result), error(err), complete()}; returns a function that stops the stream.
  function subscribe(url, body, connectionParams, sink) {
    const socket = new WebSocket(wsUrl(url), "graphql-transport-ws");
    let done = false;
    const finish = (fn, value) => {
      if (done) return;
      done = true;
      fn(value);
    };
    socket.onopen = () => socket.send(JSON.stringify({ type: "connection_init", payload: connectionParams || {} }));
    socket.onmessage = (event) => {
      const message = JSON.parse(event.data);
      if (message.type === "connection_ack") {
        socket.send(JSON.stringify({ id: "1", type: "subscribe", payload: body }));
      } else if (message.type === "ping") {
        socket.send(JSON.stringify({ type: "pong" }));
      } else if (message.type === "next") {
        sink.next(message.payload);
      } else if (message.type === "error") {
        finish(sink.next.bind(sink), { errors: message.payload });
        socket.close(1000);
      } else if (message.type === "complete") {
        finish(sink.complete.bind(sink));
        socket.close(1000);
      }
    };
    socket.onclose = (event) => {
      if (event.code !== 1000) {
        finish(sink.error.bind(sink), new Error("connection closed: " + event.code + " " + event.reason));
      } else {
        finish(sink.complete.bind(sink));
      }
    };
    return () => {
      done = true;
      if (socket.readyState <= 1) {
        if (socket.readyState === 1) socket.send(JSON.stringify({ id: "1", type: "complete" }));
        socket.close(1000);
      }
    };
  }

  // The same stream as an async iterable (what GraphiQL expects from a fetcher for subscriptions).
  function iterate(url, body, connectionParams) {
    const queue = [];
    let wake = null;
    let ended = false;
    let failure = null;
    const push = () => {
      if (wake) {
        wake();
        wake = null;
      }
    };
    const stop = subscribe(url, body, connectionParams, {
      next: (value) => {
        queue.push(value);
        push();
      },
      error: (err) => {
        failure = err;
        ended = true;
        push();
      },
      complete: () => {
        ended = true;
        push();
      },
    });
    return {
      [Symbol.asyncIterator]() {
        return this;
      },
      async next() {
        while (!queue.length && !ended) await new Promise((resolve) => (wake = resolve));
        if (queue.length) return { value: queue.shift(), done: false };
        if (failure) throw failure;
        return { value: undefined, done: true };
      },
      async return() {
        ended = true;
        stop();
        return { value: undefined, done: true };
      },
    };
  }

  function authorization(headers) {
    if (!headers) return undefined;
    for (const key of Object.keys(headers)) {
      if (key.toLowerCase() === "authorization") return headers[key];
    }
    return undefined;
  }

  window.BrokerQL = { post, subscribe, iterate, authorization, wsUrl };
})();
