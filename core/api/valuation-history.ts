import { randomUUID } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { ApiValuation, HistoryEntry } from './contract.js';

const FILE = 'valuation-history.jsonl';
const MAX_ENTRIES = 1000;

/**
 * Saved valuations, newest first: one JSON line per entry in the workspace folder, so the history stays with the
 * workspace (and its models) whichever shell shows it.
 */
export class ValuationHistory {
  private readonly file: string;

  constructor(workspaceDir: string) {
    this.file = join(workspaceDir, FILE);
  }

  list(): HistoryEntry[] {
    if (!existsSync(this.file)) return [];
    const out: HistoryEntry[] = [];
    for (const line of readFileSync(this.file, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        out.push(JSON.parse(line) as HistoryEntry);
      } catch {
        // A torn last line after a crash is skipped, not fatal.
      }
    }
    return out.reverse().slice(0, MAX_ENTRIES);
  }

  save(label: string, valuation: ApiValuation): HistoryEntry {
    const entry: HistoryEntry = { id: randomUUID(), savedAt: new Date().toISOString(), label, valuation };
    appendFileSync(this.file, `${JSON.stringify(entry)}\n`);
    return entry;
  }

  delete(id: string): boolean {
    const all = this.list().reverse();
    const kept = all.filter((e) => e.id !== id);
    if (kept.length === all.length) return false;
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, kept.map((e) => `${JSON.stringify(e)}\n`).join(''));
    renameSync(tmp, this.file);
    return true;
  }
}
