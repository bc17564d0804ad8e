// The GraphiQL console: example operations per area in tabs, subscriptions over graphql-transport-ws,
// and the token: an `Authorization: Bearer <token>` in the Headers editor wins; without one, the
// console uses the accessToken of the last login / operatorLogin / refreshSession run in this tab
// (kept in sessionStorage), on HTTP and in the WebSocket connection_init payload alike.
(function () {
  "use strict";
  const endpoint = window.location.pathname;
  const TOKEN_KEY = "brokerql.console.token";

  function remember(result) {
    const data = (result && result.data) || {};
    for (const key of ["login", "operatorLogin", "refreshSession"]) {
      if (data[key] && data[key].accessToken) sessionStorage.setItem(TOKEN_KEY, data[key].accessToken);
    }
    return result;
  }

  function withToken(headers) {
    const out = Object.assign({}, headers || {});
    const stored = sessionStorage.getItem(TOKEN_KEY);
    if (!window.BrokerQL.authorization(out) && stored) out.Authorization = "Bearer " + stored;
    return out;
  }

  // From the query text itself: GraphiQL's parsed document can lag behind the editor by a debounce.
  function isSubscription(params) {
    const text = (params.query || "").replace(/#.*$/gm, "").replace(/"(?:[^"\\]|\\.)*"/g, '""');
    if (params.operationName) return new RegExp("\\bsubscription\\s+" + params.operationName + "\\b").test(text);
    return /^\s*subscription\b/.test(text);
  }

  function fetcher(params, opts) {
    const headers = withToken(opts && opts.headers);
    if (isSubscription(params)) {
      return window.BrokerQL.iterate(endpoint, params, { authorization: window.BrokerQL.authorization(headers) });
    }
    return window.BrokerQL.post(endpoint, params, headers).then(remember);
  }

  fetch("/static/graphiql-examples.json")
    .then((r) => r.json())
    .then((examples) => {
      const tabs = examples.map((e) => ({
        query: e.query,
        variables: e.variables ? JSON.stringify(e.variables, null, 2) : undefined,
      }));
      const explorer = GraphiQLPluginExplorer.explorerPlugin();
      const root = ReactDOM.createRoot(document.getElementById("graphiql"));
      root.render(
        React.createElement(GraphiQL, {
          fetcher: fetcher,
          defaultTabs: tabs,
          plugins: [explorer],
          defaultEditorToolsVisibility: true,
          shouldPersistHeaders: false,
        }),
      );
    });
})();
