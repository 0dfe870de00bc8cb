import { useState } from 'react';
import type { MethodOutput } from '../../../core/contract/contract.js';
import { useApp } from '../app-context.js';
import { api } from '../api-client.js';
import { useJob } from '../jobs/use-job.js';
import { CancelledNotice } from '../components/CancelledNotice.js';
import { ErrorBanner } from '../components/ErrorBanner.js';
import { ProgressBar } from '../components/ProgressBar.js';
import { fmtNum, shortId } from '../format.js';

export function BatchScreen() {
  const { info } = useApp();
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

  const check = async (map = columnMap) => {
    setError(null);
    setChecking(true);
    try {
      setInspection(await api.call('batch.inspect', { source, columnMap: map }));
    } catch (err) {
      setError(err);
    } finally {
      setChecking(false);
    }
  };

  const start = (e: React.FormEvent) => {
    e.preventDefault();
    setError(null);
    void job.start({ model, source, out: out || source.replace(/(\.csv)?(\.gz)?$/i, '.valued.csv'), columnMap });
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
          <label className="field grow">
            <span>CSV to value</span>
            <input
              name="source"
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
          <label className="field grow">
            <span>Output CSV (default: next to the input)</span>
            <input name="out" value={out} onChange={(e) => setOut(e.target.value)} />
          </label>
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
      {result && (
        <div className="card" role="status">
          <h2>Done</h2>
          <p>
            {fmtNum(result.scored)} of {fmtNum(result.rows)} properties valued ({fmtNum(result.failed)} could not be) in {result.seconds.toFixed(1)} s with
            model <code>{shortId(result.modelId)}</code>.
          </p>
          <p>
            Results: <code>{result.output}</code>
          </p>
        </div>
      )}
    </section>
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
