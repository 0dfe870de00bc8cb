import { useEffect, useRef, useState } from 'react';
import type { MethodOutput } from '../../../core/contract/contract.js';
import { useApp } from '../app-context.js';
import { api } from '../api-client.js';
import { useJob } from '../jobs/use-job.js';
import { CancelledNotice } from '../components/CancelledNotice.js';
import { ErrorBanner } from '../components/ErrorBanner.js';
import { ProgressBar } from '../components/ProgressBar.js';
import { fmtNum, shortId } from '../format.js';

type ScoreResult = NonNullable<ReturnType<typeof useJob<'score'>>['result']>;

const CSV_FILTERS = [{ name: 'CSV files', extensions: ['csv', 'gz', 'txt'] }];

/** The default output beside the input: properties.csv → properties.valued.csv. */
const outputFor = (source: string) => source.replace(/(\.csv)?(\.gz)?$/i, '.valued.csv');
const fileName = (path: string) => path.split(/[\\/]/).pop() ?? path;
const fmtBytes = (n: number) => (n < 1024 * 1024 ? `${fmtNum(Math.max(1, Math.round(n / 1024)))} KB` : `${(n / 1024 / 1024).toFixed(1)} MB`);

export function BatchScreen() {
  const { info } = useApp();
  // In the desktop app files come from native dialogs; in a browser the file is uploaded to the local host.
  const desktop = api.shell === 'electron';
  const job = useJob('score');
  const running = job.state === 'running';
  const { progress, result } = job;
  // Back on this screen during (or after) a batch, the form shows what it was started with.
  const [source, setSource] = useState(job.input?.source ?? '');
  const [out, setOut] = useState(job.input?.out ?? '');
  const [model, setModel] = useState(job.input?.model ?? 'champion');
  const [error, setError] = useState<unknown>(null);
  const [inspection, setInspection] = useState<MethodOutput<'batch.inspect'> | null>(null);
  const [checking, setChecking] = useState(false);
  // Schema column → the file's column name, for files that name their columns differently.
  const [columnMap, setColumnMap] = useState<Record<string, string>>(job.input?.columnMap ?? {});
  const [uploading, setUploading] = useState<string | null>(null);
  const [uploaded, setUploaded] = useState<{ path: string; name: string; bytes: number } | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);

  const check = async (map = columnMap, from = source) => {
    setError(null);
    setChecking(true);
    try {
      setInspection(await api.call('batch.inspect', { source: from, columnMap: map }));
    } catch (err) {
      setError(err);
    } finally {
      setChecking(false);
    }
  };

  /** A newly chosen input: the path goes in the field, the old column check is dropped and a new one runs. */
  const chosen = (path: string) => {
    setSource(path);
    setOut('');
    setInspection(null);
    setColumnMap({});
    void check({}, path);
  };

  const upload = async (file: File) => {
    setError(null);
    setUploaded(null);
    setUploading(`${file.name} (${fmtBytes(file.size)})`);
    try {
      const r = await api.upload(file, file.name);
      setUploaded(r);
      chosen(r.path);
    } catch (err) {
      setError(err);
    } finally {
      setUploading(null);
      // The same file can be chosen again (after it changed on disk).
      if (fileInput.current) fileInput.current.value = '';
    }
  };

  const pick = async (kind: 'open' | 'save') => {
    setError(null);
    try {
      const path =
        kind === 'open'
          ? await api.chooseFile({ kind, title: 'Choose the CSV to value', filters: CSV_FILTERS })
          : await api.chooseFile({ kind, title: 'Save the valued CSV as', defaultName: fileName(outputFor(source || 'properties.csv')), filters: CSV_FILTERS });
      if (path === null) return;
      if (kind === 'open') chosen(path);
      else setOut(path);
    } catch (err) {
      setError(err);
    }
  };

  const start = (e: React.FormEvent) => {
    e.preventDefault();
    setError(null);
    void job.start({ model, source, out: out || outputFor(source), columnMap });
  };

  const form = info?.form;
  return (
    <section aria-labelledby="batch-title">
      <h1 id="batch-title">Batch valuation</h1>
      <form className="card" onSubmit={start} aria-label="Batch scoring">
        <p className="muted small">
          Value every property of a CSV file. Its columns are matched to the schema{form ? ` "${form.configName}"` : ''} by name
          {form ? ` (${form.fields.map((f) => f.name).join(', ')})` : ''} — check the columns to pick the file's own column where a name differs; rows that
          break the schema are reported in the output with their reasons. The output CSV adds the estimate and the ranges to each row.
        </p>
        <div className="fields">
          <div className="field grow">
            <span>CSV to value</span>
            {desktop ? (
              <button type="button" className="secondary" onClick={() => void pick('open')} disabled={running} data-testid="batch-choose">
                Choose a file…
              </button>
            ) : (
              <input
                ref={fileInput}
                type="file"
                accept=".csv,.gz,.txt,text/csv"
                aria-label="Choose a CSV file to value"
                disabled={running || uploading !== null}
                onChange={(e) => {
                  const f = e.target.files?.[0];
                  if (f) void upload(f);
                }}
                data-testid="batch-file"
              />
            )}
            {uploading && (
              <span className="muted small" role="status">
                Sending {uploading} to the app…
              </span>
            )}
            {uploaded && uploaded.path === source && (
              <span className="muted small" data-testid="batch-uploaded">
                {uploaded.name} ({fmtBytes(uploaded.bytes)}) is ready to value.
              </span>
            )}
            <label className="field">
              <span className="small">{desktop ? 'or its path' : 'or the path of a file in a folder this app may read'}</span>
              <input
                name="source"
                aria-label="CSV to value: its path"
                value={source}
                onChange={(e) => {
                  setSource(e.target.value);
                  setInspection(null);
                  setColumnMap({});
                }}
                placeholder="/home/me/properties.csv"
                required
              />
            </label>
          </div>
          <div className="field grow">
            <span>Output CSV (default: next to the input{desktop ? '' : ', to download when done'})</span>
            {desktop && (
              <button type="button" className="secondary" onClick={() => void pick('save')} disabled={running} data-testid="batch-choose-out">
                Choose where to save…
              </button>
            )}
            <input name="out" aria-label="Output CSV" value={out} onChange={(e) => setOut(e.target.value)} placeholder={source ? outputFor(source) : ''} />
          </div>
          <label className="field">
            <span>Model</span>
            <input name="model" value={model} onChange={(e) => setModel(e.target.value)} />
          </label>
        </div>
        <div className="actions">
          <button type="button" className="secondary" disabled={!source || checking || running} onClick={() => void check()}>
            Check the columns
          </button>
          <button type="submit" disabled={running || (inspection !== null && inspection.missingRequired.length > 0)}>
            Value the file
          </button>
          {running && (
            <button type="button" className="secondary" onClick={() => void job.cancel()}>
              Cancel
            </button>
          )}
        </div>
      </form>
      <ErrorBanner error={error} onDismiss={() => setError(null)} />
      <ErrorBanner error={job.error} onDismiss={job.reset} />
      {job.state === 'cancelled' && <CancelledNotice what="Valuing the file" onDismiss={job.reset} />}
      {inspection && (
        <Inspection
          r={inspection}
          columnMap={columnMap}
          onMap={(schemaColumn, fileColumn) => {
            const next = { ...columnMap };
            if (fileColumn) next[schemaColumn] = fileColumn;
            else delete next[schemaColumn];
            setColumnMap(next);
            void check(next);
          }}
        />
      )}
      {running && (
        <ProgressBar
          value={progress && progress.total > 0 ? progress.rows / progress.total : null}
          label={progress ? `${fmtNum(progress.rows)} of ${fmtNum(progress.total)} rows` : 'Starting…'}
        />
      )}
      {result && <BatchResult result={result} desktop={desktop} onError={setError} />}
    </section>
  );
}

/** The finished run: the summary, the download, the rows that could not be valued and a preview of the output. */
function BatchResult({ result, desktop, onError }: { result: ScoreResult; desktop: boolean; onError: (e: unknown) => void }) {
  const card = useRef<HTMLDivElement>(null);
  const [downloading, setDownloading] = useState(false);
  // The result appears below the form and the progress bar: bring it into view (it was off screen).
  useEffect(() => {
    card.current?.scrollIntoView({ block: 'start' });
    card.current?.focus({ preventScroll: true });
  }, [result]);
  const failures = result.failures ?? [];
  const download = async () => {
    setDownloading(true);
    try {
      await api.download(result.output);
    } catch (err) {
      onError(err);
    } finally {
      setDownloading(false);
    }
  };
  return (
    <div className="card" role="status" ref={card} tabIndex={-1} data-testid="batch-result" aria-labelledby="batch-done">
      <h2 id="batch-done">Done</h2>
      <p data-testid="batch-summary">
        {fmtNum(result.scored)} of {fmtNum(result.rows)} properties valued, {fmtNum(result.failed)} could not be, in {result.seconds.toFixed(1)} s with model{' '}
        <code>{shortId(result.modelId)}</code>.
      </p>
      {result.notes?.map((n) => (
        <p key={n} className="muted small">
          {n}
        </p>
      ))}
      <div className="actions">
        {desktop || result.output.startsWith('sqlite:') ? (
          <p>
            Results saved to <code>{result.output}</code>.
          </p>
        ) : (
          <>
            <button type="button" onClick={() => void download()} disabled={downloading} data-testid="batch-download">
              Download the results ({fileName(result.output)})
            </button>
            <span className="muted small">
              Kept in the app as <code>{result.output}</code>
            </span>
          </>
        )}
      </div>
      {failures.length > 0 && (
        <>
          <h3>Rows that could not be valued</h3>
          <p className="muted small">
            {result.failed > failures.length ? `The first ${fmtNum(failures.length)} of ${fmtNum(result.failed)}; all` : 'They'} are in the results file too,
            with their reason in the error column.
          </p>
          <div className="scroll">
            <table className="compact" data-testid="batch-failures">
              <thead>
                <tr>
                  <th className="num">Line of the file</th>
                  <th className="num">Row in the results</th>
                  <th>Why</th>
                </tr>
              </thead>
              <tbody>
                {failures.map((f) => (
                  <tr key={f.row}>
                    <td className="num">{f.line ?? '—'}</td>
                    <td className="num">{f.row}</td>
                    <td>{f.reason}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
      {result.preview && result.preview.rows.length > 0 && (
        <>
          <h3>First rows of the results</h3>
          <div className="scroll">
            <table className="compact" data-testid="batch-preview">
              <thead>
                <tr>
                  {/* The input's own header may repeat a name or leave one empty: keyed by position. */}
                  {result.preview.columns.map((c, i) => (
                    <th key={i}>{c}</th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {result.preview.rows.map((r, i) => (
                  <tr key={i}>
                    {r.map((v, j) => (
                      <td key={j} className={typeof v === 'number' ? 'num' : undefined}>
                        {v === null ? '' : String(v)}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </div>
  );
}

function Inspection({
  r,
  columnMap,
  onMap,
}: {
  r: MethodOutput<'batch.inspect'>;
  columnMap: Record<string, string>;
  onMap: (schemaColumn: string, fileColumn: string | null) => void;
}) {
  const mapped = new Set(Object.values(columnMap));
  const unmatched = r.fileColumns.filter((f) => r.ignored.includes(f) || mapped.has(f));
  return (
    <div className="card" data-testid="batch-inspection">
      <h2>Columns matched to the schema</h2>
      {r.missingRequired.length > 0 ? (
        <p className="error" role="alert">
          The file lacks required column{r.missingRequired.length > 1 ? 's' : ''} {r.missingRequired.join(', ')}. Pick the file column that holds each of them
          below.
        </p>
      ) : (
        <p className="notice">
          Every required column is there. {r.sample.valid} of the first {r.sample.rows} rows are valid
          {r.sample.rows > r.sample.valid ? '; the others will be listed in the output with their reasons' : ''}.
        </p>
      )}
      <div className="scroll">
        <table className="compact">
          <thead>
            <tr>
              <th>Schema column</th>
              <th>Meaning</th>
              <th>In the file</th>
            </tr>
          </thead>
          <tbody>
            {r.columns.map((c) => (
              <tr key={c.name}>
                <td>
                  <code>{c.name}</code>
                  {c.required && ' *'}
                </td>
                <td>{c.label}</td>
                <td className={c.found ? undefined : c.required ? 'warn' : 'muted'}>
                  {c.found && !columnMap[c.name] ? (
                    'found'
                  ) : (
                    <select aria-label={`File column for ${c.name}`} value={columnMap[c.name] ?? ''} onChange={(e) => onMap(c.name, e.target.value || null)}>
                      <option value="">{c.required ? 'missing (required): choose…' : 'missing (left empty)'}</option>
                      {unmatched
                        .filter((f) => f === columnMap[c.name] || !mapped.has(f))
                        .map((f) => (
                          <option key={f} value={f}>
                            {f}
                          </option>
                        ))}
                    </select>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {r.ignored.length > 0 && <p className="muted small">Ignored file columns: {r.ignored.join(', ')}.</p>}
      {r.sample.problems.length > 0 && (
        <>
          <h3>Problems in the first rows</h3>
          <ul className="reasons">
            {r.sample.problems.map((p) => (
              <li key={p.line}>
                line {p.line}: {p.reasons.join('; ')}
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}
