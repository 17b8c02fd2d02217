// parse.js reads a JSON array of {"file","source"} on standard input, parses
// each source with the pinned tree-sitter Bicep grammar (WebAssembly build)
// and writes a JSON array of {"file","errors":[{"line","column","kind","text"}]}
// to standard output. The caller (infra/infra_test.go) prepares the sources:
// the grammar predates Bicep's `extension` keyword, so that one statement is
// checked and blanked there, not here.
'use strict';

const path = require('path');
const Parser = require('web-tree-sitter');

function readStdin() {
  return new Promise((resolve, reject) => {
    const chunks = [];
    process.stdin.on('data', (c) => chunks.push(c));
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    process.stdin.on('error', reject);
  });
}

// errorsOf lists the ERROR and MISSING nodes of a tree, outermost first,
// without descending into an ERROR node (its children repeat it).
function errorsOf(root) {
  const out = [];
  const walk = (n) => {
    if (n.isError || n.isMissing) {
      out.push({
        line: n.startPosition.row + 1,
        column: n.startPosition.column + 1,
        kind: n.isMissing ? 'missing ' + n.type : 'syntax error',
        text: n.text.slice(0, 80),
      });
      return;
    }
    if (n.hasError) {
      for (const c of n.children) walk(c);
    }
  };
  walk(root);
  return out;
}

async function main() {
  const inputs = JSON.parse(await readStdin());
  await Parser.init();
  const wasm = path.join(path.dirname(require.resolve('tree-sitter-bicep/package.json')), 'tree-sitter-bicep.wasm');
  const bicep = await Parser.Language.load(wasm);
  const parser = new Parser();
  parser.setLanguage(bicep);
  const results = inputs.map(({ file, source }) => {
    const tree = parser.parse(source);
    const result = { file, root: tree.rootNode.type, errors: errorsOf(tree.rootNode) };
    tree.delete();
    return result;
  });
  process.stdout.write(JSON.stringify(results));
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err) + '\n');
  process.exit(1);
});
