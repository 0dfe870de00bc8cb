/**
 * `npm start` where Electron's binary is absent: it says so and starts the web host, printing the URL with the
 * token; the page is served with its CSP and the API answers with that token only. Runs the built launcher.
 */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { findElectronBinary } from '../../electron/launch.js';
import { repoRoot, tempDir } from '../helpers/temp-workspace.js';

const launcher = join(repoRoot, 'dist', 'electron', 'launch.js');
const skip = !existsSync(launcher)
  ? 'dist/ is not built (npm run build)'
  : findElectronBinary().path !== null
    ? 'Electron is installed here, so npm start opens the window'
    : null;

describe.skipIf(skip !== null)('npm start without the Electron binary', () => {
  it('says so, starts the web host and prints its URL', async () => {
    const { dir, cleanup } = tempDir('appraise-launch-');
    const child = spawn(process.execPath, [launcher], { env: { ...process.env, APPRAISE_WORKSPACE: join(dir, 'ws') }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no URL after 60 s; stderr: ${stderr}`)), 60_000);
        child.stdout!.on('data', (d: Buffer) => {
          stdout += d.toString();
          const m = /(http:\/\/127\.0\.0\.1:\d+\/#token=[\w-]+)/.exec(stdout);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]);
          }
        });
        child.on('exit', (code) => reject(new Error(`launcher exited with ${code}: ${stderr}`)));
      });
      expect(stderr).toMatch(/Electron's binary is not installed.*starting the local web host instead/s);
      const u = new URL(url);
      const page = await fetch(u.origin + '/');
      expect(page.status).toBe(200);
      expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
      const token = u.hash.slice('#token='.length);
      const ok = await fetch(`${u.origin}/api/app.info`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-appraise-token': token },
        body: '{}',
      });
      expect(ok.status).toBe(200);
      const info = (await ok.json()) as { result: { form: unknown } };
      // First run: the demo workspace is ready (King County data imported).
      expect(info.result.form).not.toBeNull();
      const denied = await fetch(`${u.origin}/api/app.info`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(denied.status).toBe(401);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      cleanup();
    }
  }, 90_000);
});
