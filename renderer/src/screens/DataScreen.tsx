import { useCallback, useEffect, useState } from 'react';
import type { MethodInput, MethodOutput } from '../../../core/contract/contract.js';
import { useApp } from '../app-context.js';
import { api } from '../api-client.js';
import { useJob } from '../jobs/use-job.js';
import { CancelledNotice } from '../components/CancelledNotice.js';
import { ErrorBanner } from '../components/ErrorBanner.js';
import { ProgressBar } from '../components/ProgressBar.js';
import { fmtDate, fmtNum, fmtPct, shortId } from '../format.js';

type Summary = MethodOutput<'datasets.list'>[number];
type Detail = MethodOutput<'datasets.get'>;
type Quarantine = MethodOutput<'datasets.quarantine'>;
const PAGE = 50;

export function DataScreen() {
  const { refreshInfo } = useApp();
  const [datasets, setDatasets] = useState<Summary[] | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);

  const reload = useCallback(async () => {
    try {
      const list = await api.call('datasets.list', {});
      setDatasets(list);
      return list;
    } catch (e) {
      setError(e);
      return [];
    }
  }, []);
  useEffect(() => {
    void reload();
  }, [reload]);
  // Also for an import started before the user left this screen and came back. (The app info refreshes itself.)
  useJob('datasets.ingest', {
    onDone: (r) => {
      void reload();
      setSelected(r.datasetId);
    },
  });

  return (
    <section aria-labelledby="data-title">
      <h1 id="data-title">Data</h1>
      <ErrorBanner error={error} onDismiss={() => setError(null)} />
      <ImportCard />
      <div className="card">
        <h2>Datasets</h2>
        {datasets === null ? (
          <p className="muted">Loading…</p>
        ) : datasets.length === 0 ? (
          <p className="muted">No datasets yet. Import a CSV above.</p>
        ) : (
          <table data-testid="datasets">
            <thead>
              <tr>
                <th>Name</th>
                <th>Id</th>
                <th>Schema</th>
                <th className="num">Rows</th>
                <th className="num">Quarantined</th>
                <th>Imported</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {datasets.map((d) => (
                <tr key={d.id} className={selected === d.id ? 'selected' : undefined}>
                  <td>{d.name}</td>
                  <td>
                    <code>{shortId(d.id)}</code>
                  </td>
                  <td>{d.config}</td>
                  <td className="num">{fmtNum(d.rows)}</td>
                  <td className="num">{fmtNum(d.quarantined)}</td>
                  <td>{fmtDate(d.createdAt)}</td>
                  <td>
                    <button className="link" onClick={() => setSelected(d.id)} aria-label={`Open ${d.name}`}>
                      Open
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
      {selected && (
        <DatasetDetail
          key={selected}
          id={selected}
          onDeleted={async () => {
            setSelected(null);
            await reload();
            await refreshInfo();
          }}
        />
      )}
    </section>
  );
}

function ImportCard() {
  const demo = useApp().info?.demo ?? null;
  const job = useJob('datasets.ingest');
  // Back on this screen during (or after) an import, the form shows what it was started with.
  const [file, setFile] = useState(job.input?.file ?? '');
  const [config, setConfig] = useState(job.input?.config ?? demo?.config ?? '');
  const [name, setName] = useState(job.input?.name ?? '');
  const running = job.state === 'running';
  const { progress, result: done } = job;

  useEffect(() => {
    if (demo && !config) setConfig(demo.config);
  }, [demo, config]);

  const run = (input: MethodInput<'datasets.ingest'>) => void job.start(input);

  return (
    <div className="card">
      <h2>Import a CSV</h2>
      <p className="muted small">
        Give the file's path on this computer and the YAML configuration that describes its columns. Rows that break the schema are quarantined with their
        reasons; the rest become a new dataset version.
      </p>
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          run({ file, config, ...(name.trim() ? { name: name.trim() } : {}) });
        }}
      >
        <label className="field grow">
          <span>CSV file path</span>
          <input name="file" value={file} onChange={(e) => setFile(e.target.value)} placeholder="/home/me/sales.csv" required />
        </label>
        <label className="field grow">
          <span>Configuration (YAML) path</span>
          <input name="config" value={config} onChange={(e) => setConfig(e.target.value)} placeholder="config/king-county.yaml" required />
        </label>
        <label className="field">
          <span>Name (optional)</span>
          <input name="name" value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <div className="actions">
          <button type="submit" disabled={running}>
            Import
          </button>
          {demo && (
            <button
              type="button"
              className="secondary"
              disabled={running}
              onClick={() => run({ file: demo.csv, config: demo.config, name: 'king-county-demo' })}
            >
              Load the King County demo
            </button>
          )}
          {running && (
            <button type="button" className="secondary" onClick={() => void job.cancel()}>
              Cancel
            </button>
          )}
        </div>
      </form>
      {running && (
        <ProgressBar
          value={progress ? progress.bytesRead / Math.max(1, progress.totalBytes) : null}
          label={progress ? `${fmtNum(progress.rowsAccepted)} rows accepted, ${fmtNum(progress.rowsQuarantined)} quarantined` : 'Starting…'}
        />
      )}
      <ErrorBanner error={job.error} onDismiss={job.reset} />
      {job.state === 'cancelled' && <CancelledNotice what="The import" onDismiss={job.reset} />}
      {done && (
        <p className="notice" role="status" data-testid="import-result">
          {done.reused ? 'This file was already imported (identical content): ' : 'Imported '}
          <strong>{done.name}</strong>: {fmtNum(done.rowsAccepted)} of {fmtNum(done.rowsRead)} rows accepted, {fmtNum(done.rowsQuarantined)} quarantined, in{' '}
          {done.seconds.toFixed(1)} s.
        </p>
      )}
    </div>
  );
}

function DatasetDetail({ id, onDeleted }: { id: string; onDeleted: () => void }) {
  const [detail, setDetail] = useState<Detail | null>(null);
  const [quarantine, setQuarantine] = useState<Quarantine | null>(null);
  const [offset, setOffset] = useState(0);
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    api.call('datasets.get', { ref: id }).then(setDetail, setError);
  }, [id]);
  useEffect(() => {
    api.call('datasets.quarantine', { ref: id, limit: PAGE, offset }).then(setQuarantine, setError);
  }, [id, offset]);

  const remove = async () => {
    try {
      await api.call('datasets.delete', { ref: id });
      onDeleted();
    } catch (e) {
      setError(e);
      setConfirming(false);
    }
  };

  const q = detail?.quality;
  return (
    <div className="card" data-testid="dataset-detail">
      <div className="row-between">
        <h2>
          {detail?.name ?? 'Dataset'} <code className="muted">{shortId(id)}</code>
        </h2>
        {confirming ? (
          <span className="actions">
            <span>Delete this dataset and its quarantine? Models trained on it keep working.</span>
            <button className="danger" onClick={() => void remove()}>
              Yes, delete
            </button>
            <button className="secondary" onClick={() => setConfirming(false)}>
              Keep it
            </button>
          </span>
        ) : (
          <button className="danger secondary" onClick={() => setConfirming(true)}>
            Delete dataset
          </button>
        )}
      </div>
      <ErrorBanner error={error} onDismiss={() => setError(null)} />
      {q && (
        <>
          <p>
            {fmtNum(q.rowsRead)} rows read, {fmtNum(q.rowsAccepted)} accepted, <strong>{fmtNum(q.rowsQuarantined)} quarantined</strong>
            {q.duplicateRows !== null && `, ${fmtNum(q.duplicateRows)} exact duplicates`}.
          </p>
          <h3>Quality by column</h3>
          <div className="scroll">
            <table className="compact" data-testid="quality">
              <thead>
                <tr>
                  <th>Column</th>
                  <th>Type</th>
                  <th className="num">Missing</th>
                  <th className="num">Min</th>
                  <th className="num">Median</th>
                  <th className="num">Max</th>
                  <th className="num">Distinct</th>
                  <th>Problems</th>
                </tr>
              </thead>
              <tbody>
                {q.columns.map((c) => {
                  const problems = Object.entries(q.problems[c.name] ?? {}).map(([k, n]) => `${n} ${k}`);
                  return (
                    <tr key={c.name}>
                      <td>{c.name}</td>
                      <td>{c.type}</td>
                      <td className="num">{fmtPct(c.missingShare)}</td>
                      <td className="num">{typeof c.min === 'number' ? fmtNum(c.min) : (c.min ?? '—')}</td>
                      <td className="num">{fmtNum(c.quantiles?.find((p) => p.p === 0.5)?.value)}</td>
                      <td className="num">{typeof c.max === 'number' ? fmtNum(c.max) : (c.max ?? '—')}</td>
                      <td className="num">{fmtNum(c.distinct)}</td>
                      <td className={problems.length ? 'warn' : 'muted'}>{problems.join(', ') || 'none'}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          {q.columns.some((c) => c.categoryTail) && (
            <>
              <h3>Categorical levels as training will code them</h3>
              <ul data-testid="category-tails">
                {q.columns.flatMap((c) => {
                  const t = c.categoryTail;
                  if (!t) return [];
                  const levels = `${fmtNum(t.levels)}${t.levelsCapped ? '+' : ''}`;
                  return [
                    <li key={c.name}>
                      <strong>{t.column}</strong>:{' '}
                      {t.rareLevels === 0
                        ? `all ${levels} levels kept`
                        : `${fmtNum(t.kept)} of ${levels} levels kept; ${fmtNum(t.rareLevels)} rare levels (sold once, or beyond the ${t.cap} most frequent; ${fmtNum(t.rareRows)} sales) share one "other (rare)" code, e.g. ${t.rareExamples.join(', ')}`}
                    </li>,
                  ];
                })}
              </ul>
            </>
          )}
        </>
      )}
      <h3>Quarantined rows</h3>
      {quarantine && quarantine.total === 0 ? (
        <p className="muted">No row was quarantined.</p>
      ) : (
        quarantine && (
          <>
            <table className="compact" data-testid="quarantine">
              <thead>
                <tr>
                  <th className="num">Line</th>
                  <th>Why</th>
                  <th>Row as read</th>
                </tr>
              </thead>
              <tbody>
                {quarantine.rows.map((r) => (
                  <tr key={`${r.runId}-${r.line}`}>
                    <td className="num">{r.line}</td>
                    <td>
                      <ul className="reasons">
                        {r.reasons.map((x) => (
                          <li key={x}>{x}</li>
                        ))}
                      </ul>
                    </td>
                    <td>
                      <code className="raw">{r.raw}</code>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            <div className="actions">
              <button className="secondary" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
                Previous
              </button>
              <span className="muted">
                {offset + 1}–{Math.min(offset + PAGE, quarantine.total)} of {fmtNum(quarantine.total)}
              </span>
              <button className="secondary" disabled={offset + PAGE >= quarantine.total} onClick={() => setOffset(offset + PAGE)}>
                Next
              </button>
            </div>
          </>
        )
      )}
    </div>
  );
}
