import type { ApiValuation, FormSchema } from '../../core/contract/contract.js';

/** One point of the location plot, in km from the subject (east, north) and in page points. */
export interface PlotPoint {
  /** "S" for the subject, "1".."k" for the comparables in the grid's order. */
  label: string;
  latitude: number;
  longitude: number;
  eastKm: number;
  northKm: number;
  x: number;
  y: number;
  excluded: boolean;
  /**
   * The text written beside this marker: its label, joined by those of the points drawn on top of it ("S,1"
   * when a comparable is next door), or null when its label is written beside such a neighbour instead.
   */
  tag: string | null;
}

/** Markers closer than this (page points) share one label, so no label is printed over another. */
export const SHARED_LABEL_PT = 10;

export interface LocationPlot {
  points: PlotPoint[];
  /** Page points per km (the same on both axes, so distances on the page are true to scale). */
  ptPerKm: number;
  /** The scale bar: a round length and its width in points. */
  scaleKm: number;
  scalePt: number;
  /** Comparables left out for want of coordinates. */
  missing: string[];
}

/** Why there is no plot, stated in the report in place of it. */
export type NoPlot = { note: string };

export interface PlotBox {
  left: number;
  bottom: number;
  width: number;
  height: number;
}

const EARTH_KM_PER_DEG = 111.195; // mean Earth radius 6371.0 km × π / 180

/**
 * Places the subject and its comparables on a flat map around the subject: an equirectangular projection
 * scaled by cos(latitude) so a km east is as long on the page as a km north (at the distances comparables
 * lie, a few km, its error against the great-circle distance is far below a printed point). No map tiles:
 * the report is made offline. The frame keeps a margin so labels beside the markers stay inside it.
 */
export function locationPlot(
  v: ApiValuation,
  form: FormSchema | null,
  comps: { latitude: number | null; longitude: number | null; excluded?: boolean }[],
  box: PlotBox,
): LocationPlot | NoPlot {
  const latField = form?.fields.find((f) => f.type === 'latitude');
  const lonField = form?.fields.find((f) => f.type === 'longitude');
  if (!latField || !lonField) return { note: "The dataset's schema has no latitude and longitude columns, so no location plot can be drawn." };
  const lat0 = Number(v.input[latField.name]);
  const lon0 = Number(v.input[lonField.name]);
  if (v.input[latField.name] == null || v.input[lonField.name] == null || !Number.isFinite(lat0) || !Number.isFinite(lon0))
    return { note: `The subject has no ${latField.label} and ${lonField.label}, so no location plot can be drawn.` };
  const kx = EARTH_KM_PER_DEG * Math.cos((lat0 * Math.PI) / 180);
  const raw: Omit<PlotPoint, 'x' | 'y' | 'tag'>[] = [{ label: 'S', latitude: lat0, longitude: lon0, eastKm: 0, northKm: 0, excluded: false }];
  const missing: string[] = [];
  comps.forEach((c, i) => {
    if (c.latitude === null || c.longitude === null) missing.push(String(i + 1));
    else
      raw.push({
        label: String(i + 1),
        latitude: c.latitude,
        longitude: c.longitude,
        eastKm: (c.longitude - lon0) * kx,
        northKm: (c.latitude - lat0) * EARTH_KM_PER_DEG,
        excluded: Boolean(c.excluded),
      });
  });
  // Centred on the subject, the half-extent the farthest point needs on either axis (at least 0.5 km, so a
  // cluster of comparables next door is not blown up to fill the page).
  const margin = 24;
  const halfW = (box.width - 2 * margin) / 2;
  const halfH = (box.height - 2 * margin) / 2;
  const needE = Math.max(0.5, ...raw.map((p) => Math.abs(p.eastKm)));
  const needN = Math.max(0.5, ...raw.map((p) => Math.abs(p.northKm)));
  const ptPerKm = Math.min(halfW / needE, halfH / needN);
  const cx = box.left + box.width / 2;
  const cy = box.bottom + box.height / 2;
  const points: PlotPoint[] = raw.map((p) => ({ ...p, x: cx + p.eastKm * ptPerKm, y: cy + p.northKm * ptPerKm, tag: p.label }));
  // Each point joins the label of the first earlier point it nearly covers (the subject first of all).
  for (let i = 1; i < points.length; i++) {
    const host = points.slice(0, i).find((q) => q.tag !== null && Math.hypot(q.x - points[i].x, q.y - points[i].y) < SHARED_LABEL_PT);
    if (host) {
      host.tag = `${host.tag},${points[i].label}`;
      points[i].tag = null;
    }
  }
  const scaleKm = niceLength((box.width * 0.25) / ptPerKm);
  return { points, ptPerKm, scaleKm, scalePt: scaleKm * ptPerKm, missing };
}

/** The largest 1, 2 or 5 × 10ⁿ km not longer than `km`. */
export function niceLength(km: number): number {
  const p = 10 ** Math.floor(Math.log10(km));
  for (const m of [5, 2, 1]) if (m * p <= km) return m * p;
  return p;
}

/** "2 km", "500 m", "0.2 km" below 1 km written in metres. */
export const scaleText = (km: number): string => (km >= 1 ? `${km} km` : `${Math.round(km * 1000)} m`);
