// Tokenises every `.policy` file of the repository with the TextMate engine VS Code itself uses
// (vscode-textmate, with the Oniguruma regular expressions VS Code uses, vscode-oniguruma), and fails
// when the grammar leaves a line inside an unclosed region (a string that runs past its line: the rule
// stack deeper than the root at a line's end), leaves text other than white space without a scope of
// its own (only the root scope, `source.policy`), or marks text of a valid file invalid. Closes with
// `N passed, N failed`. With `--show FILE`, prints each token of FILE with its scopes.
'use strict';

const fs = require('fs');
const path = require('path');
const oniguruma = require('vscode-oniguruma');
const textmate = require('vscode-textmate');

const here = __dirname;
const root = path.resolve(here, '..', '..', '..');
const grammarPath = path.join(here, '..', 'syntaxes', 'policy.tmLanguage.json');
const SKIP = new Set(['.git', 'node_modules', 'target']);

function policyFiles(dir, out) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (SKIP.has(entry.name)) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) policyFiles(full, out);
    else if (entry.name.endsWith('.policy')) out.push(full);
  }
  return out;
}

// The checker's error cases: files meant to be wrong, where a character the language does not have
// is the error tested. Only these may have text the grammar marks invalid.
function meantToBeWrong(name) {
  return name.split(path.sep).join('/').startsWith('tests/cases/check/err/');
}

async function main() {
  // The extension's manifest points at files that exist and read.
  const extension = path.join(here, '..');
  const manifest = JSON.parse(fs.readFileSync(path.join(extension, 'package.json'), 'utf8'));
  const contributed = manifest.contributes.grammars[0];
  if (path.resolve(extension, contributed.path) !== grammarPath || contributed.scopeName !== 'source.policy') {
    throw new Error('package.json does not contribute syntaxes/policy.tmLanguage.json as source.policy');
  }
  JSON.parse(fs.readFileSync(path.resolve(extension, manifest.contributes.languages[0].configuration), 'utf8'));
  if (!fs.existsSync(path.resolve(extension, manifest.main))) throw new Error(`no ${manifest.main}`);

  const wasm = fs.readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm')).buffer;
  await oniguruma.loadWASM(wasm);
  const registry = new textmate.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
      createOnigString: (s) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async (scopeName) => {
      if (scopeName !== 'source.policy') return null;
      const content = fs.readFileSync(grammarPath, 'utf8');
      return textmate.parseRawGrammar(content, grammarPath);
    },
  });
  const grammar = await registry.loadGrammar('source.policy');
  if (!grammar) throw new Error('the grammar does not load');

  // The checks themselves: an open string must be seen as a region left open, a stray character as
  // invalid, or the test would pass whatever the grammar does.
  const open = grammar.tokenizeLine('because "not closed', textmate.INITIAL);
  const stray = grammar.tokenizeLine('when a && b', textmate.INITIAL);
  if (open.ruleStack.depth <= 1 || !stray.tokens.some((t) => t.scopes.some((s) => s.startsWith('invalid')))) {
    throw new Error('the test cannot see an unclosed string or an invalid character');
  }
  const show = process.argv.indexOf('--show');
  if (show !== -1) {
    const lines = fs.readFileSync(process.argv[show + 1], 'utf8').split(/\r?\n/);
    let stack = textmate.INITIAL;
    for (const line of lines) {
      const result = grammar.tokenizeLine(line, stack);
      for (const token of result.tokens) {
        const piece = line.slice(token.startIndex, token.endIndex);
        if (piece.trim() !== '') console.log(`${JSON.stringify(piece)} ${token.scopes.slice(1).join(' ')}`);
      }
      stack = result.ruleStack;
    }
    return;
  }
  const files = policyFiles(root, []).sort();
  let passed = 0;
  let failed = 0;
  for (const file of files) {
    const text = fs.readFileSync(file, 'utf8');
    const lines = text.split(/\r?\n/);
    const problems = [];
    const name = path.relative(root, file);
    const wrong = meantToBeWrong(name);
    let stack = textmate.INITIAL;
    lines.forEach((line, i) => {
      const result = grammar.tokenizeLine(line, stack);
      for (const token of result.tokens) {
        const piece = line.slice(token.startIndex, token.endIndex);
        if (piece.trim() !== '' && token.scopes.length < 2) {
          problems.push(`${i + 1}:${token.startIndex + 1}: no scope for \`${piece.trim()}\``);
        }
        if (!wrong && token.scopes.some((s) => s.startsWith('invalid'))) {
          problems.push(`${i + 1}:${token.startIndex + 1}: invalid \`${piece}\``);
        }
      }
      stack = result.ruleStack;
      if (stack.depth > 1) {
        problems.push(`${i + 1}: the line ends inside an unclosed region`);
        stack = textmate.INITIAL;
      }
    });
    if (stack.depth > 1) problems.push('the file ends inside an unclosed region');
    if (problems.length === 0) {
      passed += 1;
    } else {
      failed += 1;
      console.log(`FAIL ${name}`);
      for (const p of problems.slice(0, 10)) console.log(`  ${p}`);
      if (problems.length > 10) console.log(`  ... and ${problems.length - 10} more`);
    }
  }
  console.log(`tokenised ${files.length} .policy files with ${path.relative(root, grammarPath)}`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed === 0 && files.length > 0 ? 0 : 1;
}

main().catch((error) => {
  console.error(error);
  console.log('0 passed, 1 failed');
  process.exitCode = 1;
});
