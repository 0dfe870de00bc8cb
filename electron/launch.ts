/**
 * `npm start`: launches the Electron app, or — where Electron's binary is not installed (it is not downloaded on
 * CI and headless machines: ELECTRON_SKIP_BINARY_DOWNLOAD=1) — says so and starts the local web host instead,
 * printing the address to open. `npm run web` (`--web`) always starts the web host.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { serveUntilSignal } from '../core/app/serve-web-app.js';

/** Path of the Electron binary, or null with the reason it cannot be used. */
export function findElectronBinary(): { path: string } | { path: null; reason: string } {
  try {
    const p = createRequire(import.meta.url)('electron') as unknown;
    if (typeof p === 'string' && existsSync(p)) return { path: p };
    return { path: null, reason: 'the electron package is installed without its binary' };
  } catch (e) {
    return { path: null, reason: `Electron's binary is not installed (${(e as Error).message.split('\n')[0]})` };
  }
}

async function main(argv: string[]): Promise<void> {
  const portArg = argv.find((a) => a.startsWith('--port='));
  const web = () => serveUntilSignal({ demo: true, port: portArg ? Number(portArg.slice(7)) : 0 });
  if (argv.includes('--web')) return web();
  const electron = findElectronBinary();
  if (electron.path === null) {
    process.stderr.write(`appraise: ${electron.reason}; starting the local web host instead.\n`);
    return web();
  }
  const child = spawn(electron.path, [fileURLToPath(new URL('./main.js', import.meta.url))], { stdio: 'inherit' });
  child.on('exit', (code) => process.exit(code ?? 0));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).catch((e) => {
    process.stderr.write(`appraise: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
