// Generates src/generated/<program> from idl/<program>.json with Codama (the Anchor IDL
// converted by @codama/nodes-from-anchor, rendered by @codama/renderers-js for @solana/kit).
// `--check` renders into a temporary directory and fails when the committed code differs.
import { createFromRoot } from 'codama';
import { rootNodeFromAnchor } from '@codama/nodes-from-anchor';
import { renderVisitor } from '@codama/renderers-js';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const idlDir = join(root, "..", "..", "idl");
const programs = { concord_staking: 'staking', concord_market: 'market' };
const check = process.argv.includes('--check');
const out = check ? mkdtempSync(join(tmpdir(), 'concord-js-')) : join(root, 'src', 'generated');

for (const [idlName, dir] of Object.entries(programs)) {
  const idl = JSON.parse(readFileSync(join(idlDir, `${idlName}.json`), 'utf8'));
  const codama = createFromRoot(rootNodeFromAnchor(idl));
  await codama.accept(renderVisitor(join(out, dir), { deleteFolderBeforeRendering: true }));
}

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

if (check) {
  const committed = join(root, 'src', 'generated');
  const want = new Map(files(out).map((f) => [relative(out, f), readFileSync(f, 'utf8')]));
  let have = new Map();
  try {
    have = new Map(files(committed).map((f) => [relative(committed, f), readFileSync(f, 'utf8')]));
  } catch {}
  const stale = [...new Set([...want.keys(), ...have.keys()])].filter((f) => want.get(f) !== have.get(f));
  rmSync(out, { recursive: true, force: true });
  if (stale.length > 0) {
    console.error(`clients/js/src/generated is stale against idl/ (${stale.length} files, e.g. ${stale[0]}): run ./scripts/js.sh --generate and commit it`);
    process.exit(1);
  }
  console.log('clients/js/src/generated is up to date');
} else {
  console.log(`wrote ${relative(process.cwd(), out)}`);
}
