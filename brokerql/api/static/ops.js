// The operator dashboard: logs in as an operator, follows the monitorStats subscription, draws the
// headline figures as live charts, and sends the controls (acknowledge, halt/resume, drain, simulator).
(function () {
  "use strict";
  const api = window.BrokerQL;
  const ENDPOINT = "/graphql";
  const TOKEN_KEY = "brokerql.ops.token";
  const HISTORY = 150; // points per chart
  const $ = (id) => document.getElementById(id);
  const series = { clients: [], connections: [], orders: [], pushes: [] };
  let stopStream = null;

  const STATS = `subscription Monitor { monitorStats {
    generatedAt
    processes { id role startedAt connections subscriptions clientsOnline ordersPerSecond pushesPerSecond
                loopLagMs rssBytes draining }
    cluster { apiProcesses exchangeProcesses connections subscriptions clientsOnline tradingClients
              quoteOnlyClients ordersPerSecond fillsPerSecond pushesPerSecond quoteAgeSeconds }
    alerts { id rule severity message raisedAt clearedAt acknowledgedAt }
    halts { marketHalted symbols } } }`;

  function token() {
    return sessionStorage.getItem(TOKEN_KEY);
  }

  function say(message) {
    $("status").textContent = message || "";
  }

  async function call(query, variables) {
    const result = await api.post(ENDPOINT, { query, variables }, { Authorization: "Bearer " + token() });
    if (result.errors && result.errors.length) throw new Error(result.errors[0].message);
    const payload = Object.values(result.data)[0];
    if (payload && payload.errors && payload.errors.length) throw new Error(payload.errors[0].message);
    return payload;
  }

  function text(value) {
    return value === null || value === undefined ? "-" : String(value);
  }

  function time(iso) {
    return iso ? new Date(iso).toLocaleTimeString() : "-";
  }

  function cell(row, value) {
    const td = document.createElement("td");
    td.textContent = text(value);
    row.appendChild(td);
    return td;
  }

  function button(label, onClick) {
    const b = document.createElement("button");
    b.textContent = label;
    b.addEventListener("click", onClick);
    return b;
  }

  function draw(canvasId, points) {
    const canvas = $(canvasId);
    const ctx = canvas.getContext("2d");
    const w = canvas.width, h = canvas.height, pad = 18;
    ctx.clearRect(0, 0, w, h);
    const max = Math.max(1, ...points);
    ctx.strokeStyle = "#d0d4dc";
    ctx.beginPath();
    ctx.moveTo(pad, h - pad);
    ctx.lineTo(w, h - pad);
    ctx.stroke();
    ctx.fillStyle = "#555";
    ctx.font = "11px system-ui";
    ctx.fillText(String(Math.round(max * 100) / 100), 2, 11);
    ctx.fillText(points.length ? String(points[points.length - 1]) : "", w - 60, 11);
    ctx.strokeStyle = "#2f6fdf";
    ctx.lineWidth = 2;
    ctx.beginPath();
    points.forEach((v, i) => {
      const x = pad + ((w - pad) * i) / Math.max(1, HISTORY - 1);
      const y = h - pad - ((h - pad * 2) * v) / max;
      if (i === 0) ctx.moveTo(x, y);
      else ctx.lineTo(x, y);
    });
    ctx.stroke();
  }

  function record(name, value) {
    series[name].push(value || 0);
    if (series[name].length > HISTORY) series[name].shift();
  }

  function headline(cluster) {
    const cards = [
      ["Clients online", cluster.clientsOnline],
      ["Trading / quote-only", cluster.tradingClients + " / " + cluster.quoteOnlyClients],
      ["Connections", cluster.connections],
      ["Subscriptions", cluster.subscriptions],
      ["Orders/s", cluster.ordersPerSecond],
      ["Fills/s", cluster.fillsPerSecond],
      ["Pushes/s", cluster.pushesPerSecond],
      ["Quote age s", cluster.quoteAgeSeconds],
      ["API / exchange processes", cluster.apiProcesses + " / " + cluster.exchangeProcesses],
    ];
    const box = $("headline");
    box.replaceChildren(
      ...cards.map(([label, value]) => {
        const div = document.createElement("div");
        div.className = "card";
        const b = document.createElement("b");
        b.textContent = text(value);
        div.append(b, label);
        return div;
      }),
    );
  }

  function alerts(list) {
    const body = $("alerts").querySelector("tbody");
    body.replaceChildren(
      ...list.map((a) => {
        const row = document.createElement("tr");
        row.className = a.severity + (a.clearedAt ? " cleared" : "");
        [a.rule, a.severity, a.message, time(a.raisedAt), time(a.clearedAt), time(a.acknowledgedAt)].forEach((v) =>
          cell(row, v),
        );
        const td = cell(row, "");
        if (!a.acknowledgedAt) {
          td.appendChild(
            button("Acknowledge", () =>
              call("mutation($i: ID!) { acknowledgeAlert(id: $i) { errors { message } } }", { i: a.id }).catch((e) =>
                say(e.message),
              ),
            ),
          );
        }
        return row;
      }),
    );
  }

  function processes(list) {
    const body = $("processes").querySelector("tbody");
    body.replaceChildren(
      ...list.map((p) => {
        const row = document.createElement("tr");
        [p.id, p.role, time(p.startedAt), p.connections, p.subscriptions, p.clientsOnline, p.ordersPerSecond,
          p.pushesPerSecond, p.loopLagMs, Math.round(p.rssBytes / 1048576), p.draining ? "draining" : "serving",
        ].forEach((v) => cell(row, v));
        const td = cell(row, "");
        if (p.role !== "exchange") {
          td.appendChild(
            button(p.draining ? "Undrain" : "Drain", () =>
              call("mutation($p: String!, $d: Boolean!) { drainProcess(processId: $p, drain: $d) { errors { message } } }", {
                p: p.id,
                d: !p.draining,
              }).catch((e) => say(e.message)),
            ),
          );
        }
        return row;
      }),
    );
  }

  function show(stats) {
    const c = stats.cluster;
    headline(c);
    record("clients", c.clientsOnline);
    record("connections", c.connections);
    record("orders", c.ordersPerSecond);
    record("pushes", c.pushesPerSecond);
    draw("chart-clients", series.clients);
    draw("chart-connections", series.connections);
    draw("chart-orders", series.orders);
    draw("chart-pushes", series.pushes);
    alerts(stats.alerts);
    processes(stats.processes);
    const halts = (stats.halts.marketHalted ? ["WHOLE MARKET"] : []).concat(stats.halts.symbols);
    $("halts").textContent = halts.length ? halts.join(", ") : "none";
    document.body.dataset.updated = stats.generatedAt;
  }

  function follow() {
    if (stopStream) stopStream();
    stopStream = api.subscribe(ENDPOINT, { query: STATS }, { authorization: "Bearer " + token() }, {
      next: (result) => {
        if (result.errors && result.errors.length) {
          say(result.errors[0].message);
          if (result.errors[0].extensions && result.errors[0].extensions.code === "UNAUTHENTICATED") logout();
          return;
        }
        say("");
        show(result.data.monitorStats);
      },
      error: (err) => {
        say(err.message + " - reconnecting");
        setTimeout(() => token() && follow(), 2000);
      },
      complete: () => setTimeout(() => token() && follow(), 2000),
    });
  }

  function enter(username) {
    $("login-panel").hidden = true;
    $("dashboard").hidden = false;
    $("logout").hidden = false;
    $("who").textContent = username || sessionStorage.getItem(TOKEN_KEY + ".user") || "";
    follow();
  }

  function logout() {
    sessionStorage.removeItem(TOKEN_KEY);
    if (stopStream) stopStream();
    $("login-panel").hidden = false;
    $("dashboard").hidden = true;
    $("logout").hidden = true;
  }

  $("login").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    const input = { username: form.get("username"), password: form.get("password") };
    if (form.get("otp")) input.otp = form.get("otp");
    const result = await api.post(ENDPOINT, {
      query: "mutation($i: OperatorLoginInput!) { operatorLogin(input: $i) { accessToken errors { code message } } }",
      variables: { i: input },
    });
    const payload = result.data && result.data.operatorLogin;
    if (!payload || !payload.accessToken) {
      $("status").textContent = "";
      alert((payload && payload.errors[0] && payload.errors[0].message) || "login failed");
      return;
    }
    sessionStorage.setItem(TOKEN_KEY, payload.accessToken);
    sessionStorage.setItem(TOKEN_KEY + ".user", input.username);
    enter(input.username);
  });

  $("halt-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const symbol = new FormData(event.target).get("symbol") || null;
    const action = event.submitter && event.submitter.value === "resume" ? "resumeTrading" : "haltTrading";
    call(`mutation($s: String) { ${action}(symbol: $s) { errors { message } } }`, { s: symbol })
      .then(() => say(""))
      .catch((e) => say(e.message));
  });
  $("sim-pause").addEventListener("click", () => call("mutation { pauseSimulator { errors { message } } }").catch((e) => say(e.message)));
  $("sim-resume").addEventListener("click", () => call("mutation { resumeSimulator { errors { message } } }").catch((e) => say(e.message)));
  $("logout").addEventListener("click", logout);

  document.body.dataset.ready = "1";
  if (token()) enter();
})();
