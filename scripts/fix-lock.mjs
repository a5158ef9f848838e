// The npm registry mirror this project is built against does not serve some platform builds of
// msgpackr-extract (darwin, win32, linux-arm): `npm install` then leaves them out of package-lock.json,
// and `npm ci` refuses the lock ("Missing: @msgpackr-extract/... from lock file"). This restores their
// lock entries (optional, with os/cpu, so npm ci skips them on other platforms without fetching).
// Run after any `npm install` that rewrites the lock: node scripts/fix-lock.mjs
import { readFileSync, writeFileSync } from 'node:fs';

const path = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(path, 'utf8'));
const packages = lock.packages;
const prefix = 'node_modules/@msgpackr-extract/msgpackr-extract-';
const base = packages[`${prefix}linux-x64`];
if (!base) throw new Error('package-lock.json has no msgpackr-extract linux-x64 entry to copy from');
const platforms = { 'darwin-arm64': ['darwin', 'arm64'], 'darwin-x64': ['darwin', 'x64'], 'linux-arm': ['linux', 'arm'], 'linux-arm64': ['linux', 'arm64'], 'win32-x64': ['win32', 'x64'] };
let added = 0;
for (const [name, [os, cpu]] of Object.entries(platforms)) {
  if (packages[prefix + name]) continue;
  packages[prefix + name] = { version: base.version, cpu: [cpu], license: base.license ?? 'MIT', optional: true, os: [os] };
  added++;
}
const sorted = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : a > b ? 1 : 0)));
lock.packages = sorted;
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`package-lock.json: ${added} platform entries restored`);
