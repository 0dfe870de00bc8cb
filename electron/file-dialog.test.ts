import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { handleFileDialog, IPC_FILE_DIALOG, type NativeDialogOptions } from './file-dialog.js';
import { APP_ORIGIN } from './security-policy.js';

// Electron's own `dialog` cannot open here (no Electron binary, no display): main.ts hands it to handleFileDialog
// as two functions. These tests pass recording ones, to check what the window may and may not make main do.
function recorder(answer: string | null) {
  const calls: { kind: 'open' | 'save'; options: NativeDialogOptions & { properties: string[] } }[] = [];
  return {
    calls,
    dialogs: {
      open: (options: NativeDialogOptions & { properties: 'openFile'[] }) => (calls.push({ kind: 'open', options }), Promise.resolve(answer)),
      save: (options: NativeDialogOptions & { properties: ('createDirectory' | 'showOverwriteConfirmation')[] }) => (
        calls.push({ kind: 'save', options }),
        Promise.resolve(answer)
      ),
    },
  };
}
const appFrame = { url: `${APP_ORIGIN}/index.html`, parent: null };

describe('the native file dialog bridge', () => {
  it('opens a dialog for the app frame and answers with the chosen path, or null when cancelled', async () => {
    const r = recorder('/home/me/properties.csv');
    const open = await handleFileDialog(
      appFrame,
      { kind: 'open', title: 'Choose the CSV to value', filters: [{ name: 'CSV files', extensions: ['csv', 'gz'] }] },
      r.dialogs,
      '/home/me/Documents',
    );
    expect(open).toEqual({ ok: true, result: { path: '/home/me/properties.csv' } });
    expect(r.calls[0]).toEqual({
      kind: 'open',
      options: {
        title: 'Choose the CSV to value',
        defaultPath: '/home/me/Documents',
        filters: [
          { name: 'CSV files', extensions: ['csv', 'gz'] },
          { name: 'All files', extensions: ['*'] },
        ],
        properties: ['openFile'],
      },
    });
    const cancelled = await handleFileDialog(appFrame, { kind: 'save', title: 'Save the results', defaultName: 'x.valued.csv' }, recorder(null).dialogs, '/d');
    expect(cancelled).toEqual({ ok: true, result: { path: null } });
  });

  it('starts a save dialog in the default folder with the suggested name, asking before overwriting', async () => {
    const r = recorder('/d/out.csv');
    await handleFileDialog(appFrame, { kind: 'save', title: 'Save the results', defaultName: 'properties.valued.csv' }, r.dialogs, '/home/me/Documents');
    expect(r.calls[0].kind).toBe('save');
    expect(r.calls[0].options.defaultPath).toBe(join('/home/me/Documents', 'properties.valued.csv'));
    expect(r.calls[0].options.properties).toContain('showOverwriteConfirmation');
  });

  it('refuses other frames and malformed requests without opening anything', async () => {
    const r = recorder('/etc/passwd');
    for (const frame of [null, { url: 'https://evil.example/', parent: null }, { url: `${APP_ORIGIN}/index.html`, parent: {} }]) {
      expect(await handleFileDialog(frame, { kind: 'open', title: 'x' }, r.dialogs, '/d')).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    }
    for (const bad of [
      null,
      { kind: 'delete', title: 'x' },
      { kind: 'open', title: '' },
      // A folder smuggled into the suggested name would choose where the dialog opens.
      { kind: 'save', title: 'x', defaultName: '../../etc/cron.d/job' },
      { kind: 'open', title: 'x', defaultPath: '/etc' },
      { kind: 'open', title: 'x', filters: [{ name: 'x', extensions: ['csv;rm -rf'] }] },
    ]) {
      expect(await handleFileDialog(appFrame, bad, r.dialogs, '/d'), JSON.stringify(bad)).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
    }
    expect(r.calls).toHaveLength(0);
  });

  it('is wired: main handles the channel through handleFileDialog with the sender frame, the preload exposes it', () => {
    const main = readFileSync(new URL('./main.ts', import.meta.url), 'utf8');
    expect(main).toContain('ipcMain.handle(IPC_FILE_DIALOG');
    expect(main).toContain('handleFileDialog(\n        event.senderFrame');
    const preload = readFileSync(new URL('./preload.cts', import.meta.url), 'utf8');
    expect(preload).toContain(`const IPC_FILE_DIALOG = '${IPC_FILE_DIALOG}'`);
    expect(preload).toContain('chooseFile: (request: unknown) => ipcRenderer.invoke(IPC_FILE_DIALOG, request)');
  });
});
