#!/usr/bin/env bash
# Vendor GraphiQL's browser assets into brokerql/api/static/vendor/ from the npm registry, at pinned
# versions, with their licences, so that GraphiQL and /ops work on a network without internet access.
#
#   scripts/vendor_graphiql.sh          # needs node's `npm` and access to the npm registry, once
#
# Repeatable: the same versions give the same files (SHA256SUMS is written next to them and committed;
# `sha256sum -c` in that directory checks a copy). To upgrade, change a version below, run the script,
# open /graphql and /ops in a browser, run the browser tests (tests/browser), commit.
set -euo pipefail

REACT=18.2.0
REACT_DOM=18.2.0
GRAPHIQL=3.8.3
EXPLORER=1.0.2            # @graphiql/plugin-explorer
GRAPHIQL_EXPLORER=0.9.0   # graphiql-explorer: bundled inside the explorer plugin's UMD file (licence only)

here="$(cd "$(dirname "$0")/.." && pwd)"
out="$here/brokerql/api/static/vendor"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cd "$work"
npm pack --silent "react@$REACT" "react-dom@$REACT_DOM" "graphiql@$GRAPHIQL" \
  "@graphiql/plugin-explorer@$EXPLORER" "graphiql-explorer@$GRAPHIQL_EXPLORER" >/dev/null
for tgz in *.tgz; do
  mkdir -p "${tgz%.tgz}" && tar -xzf "$tgz" -C "${tgz%.tgz}"
done

rm -rf "$out" && mkdir -p "$out/licenses"
cp "react-$REACT/package/umd/react.production.min.js" "$out/react.production.min.js"
cp "react-dom-$REACT_DOM/package/umd/react-dom.production.min.js" "$out/react-dom.production.min.js"
cp "graphiql-$GRAPHIQL/package/graphiql.min.js" "$out/graphiql.min.js"
cp "graphiql-$GRAPHIQL/package/graphiql.min.css" "$out/graphiql.min.css"
cp "graphiql-plugin-explorer-$EXPLORER/package/dist/index.umd.js" "$out/plugin-explorer.umd.js"
cp "graphiql-plugin-explorer-$EXPLORER/package/dist/style.css" "$out/plugin-explorer.css"
# Source maps point at files we do not ship; browsers would try to fetch them.
sed -i -e '/^\/\/# sourceMappingURL=/d' -e 's#/\*\# sourceMappingURL=[^*]*\*/##' "$out"/*.js "$out"/*.css

cp "react-$REACT/package/LICENSE" "$out/licenses/react.LICENSE"
cp "react-dom-$REACT_DOM/package/LICENSE" "$out/licenses/react-dom.LICENSE"
cp "graphiql-$GRAPHIQL/package/LICENSE" "$out/licenses/graphiql.LICENSE"
cp "graphiql-explorer-$GRAPHIQL_EXPLORER/package/LICENSE" "$out/licenses/graphiql-explorer.LICENSE"
{
  echo "@graphiql/plugin-explorer $EXPLORER ships without a LICENSE file; its package.json says MIT and it"
  echo "comes from the same repository (github.com/graphql/graphiql) as graphiql, whose licence follows."
  echo
  cat "graphiql-$GRAPHIQL/package/LICENSE"
} >"$out/licenses/plugin-explorer.LICENSE"

cat >"$out/VERSIONS" <<VERSIONS
react $REACT (npm: react, umd/react.production.min.js; MIT)
react-dom $REACT_DOM (npm: react-dom, umd/react-dom.production.min.js; MIT)
graphiql $GRAPHIQL (npm: graphiql, graphiql.min.js + graphiql.min.css; MIT)
@graphiql/plugin-explorer $EXPLORER (npm: @graphiql/plugin-explorer, dist/index.umd.js + dist/style.css; MIT)
graphiql-explorer $GRAPHIQL_EXPLORER (bundled in plugin-explorer.umd.js; MIT)
Written by scripts/vendor_graphiql.sh; source map comments removed.
VERSIONS
(cd "$out" && sha256sum ./*.js ./*.css >SHA256SUMS)
echo "vendored into $out:"
ls -la "$out"
