#!/usr/bin/env bash
# Regenerates the parser (src/) from grammar.js, and records which grammar.js it comes from (the test
# `the_parser_is_generated_from_the_grammar_as_it_is` compares). Needs the tree-sitter CLI:
# `cargo install tree-sitter-cli --locked`.
set -euo pipefail
cd "$(dirname "$0")"
tree-sitter generate
node -e '
const bytes = require("fs").readFileSync("grammar.js");
let hash = 0xcbf29ce484222325n;
for (const b of bytes) hash = BigInt.asUintN(64, (hash ^ BigInt(b)) * 0x100000001b3n);
console.log(hash.toString(16).padStart(16, "0"));
' > src/grammar.js.fnv1a
