import { z } from 'zod';

/**
 * Which levels of a categorical column get a code of their own, and which share the "other (rare)" code.
 *
 * A level seen in fewer than MIN_CATEGORY_ROWS sales cannot be learned on its own, and the histograms have room
 * for only MAX_CATEGORIES codes; yet each such level is a real, known value: pooling all of them in one code
 * lets the trees learn what "a rare suburb" is worth, where dropping them to unknown (NaN) would mix them with
 * missing values and with levels never seen.
 * Unknown stays reserved for values absent from training, which valuation reports and widens the band for.
 *
 * The same rule runs at ingest (the quality report says what training will do) and when a model is trained.
 */

/** Most levels kept with a code of their own; with the rare code that is 255 codes, one histogram bin each. */
export const MAX_CATEGORIES = 254;

/**
 * Fewest sales a level needs for a code of its own: a level sold once is pooled. Measured (docs/model.md): 10
 * cost 5 % on the wide-categorical shape, whose levels of 3–9 sales still carry their own price level, and 3–5
 * cost ~0.7 % on Ames; 2 was as good as 1 or better on every dataset.
 */
export const MIN_CATEGORY_ROWS = 2;

/** The levels of one column pooled in its rare code (code = number of kept levels). */
export const rareLevelsSchema = z.object({
  /** The pooled levels, most frequent first. */
  levels: z.array(z.string()),
  /** Training rows holding one of them. */
  rows: z.number().int().nonnegative(),
  /** The rule used: fewer rows than this, or beyond `cap` levels. */
  minRows: z.number().int().positive(),
  cap: z.number().int().positive(),
});
export type RareLevels = z.output<typeof rareLevelsSchema>;

/** What happened to one categorical column's levels, for the quality report and the training output. */
export const categoryTailSchema = z.object({
  column: z.string(),
  /** Distinct levels seen (a lower bound when `levelsCapped`). */
  levels: z.number(),
  levelsCapped: z.boolean(),
  /** Levels with a code of their own. */
  kept: z.number(),
  /** Levels merged into the shared "other (rare)" code, and the rows they hold. */
  rareLevels: z.number(),
  rareRows: z.number(),
  /** A few of the merged levels (the most frequent), to recognise them by. */
  rareExamples: z.array(z.string()),
  minRows: z.number(),
  cap: z.number(),
});
export type CategoryTail = z.output<typeof categoryTailSchema>;

export interface VocabularySplit {
  kept: string[];
  rare: RareLevels | null;
}

/** Orders levels by frequency (ties by value) and splits them into kept and rare. */
export function splitVocabulary(frequencies: readonly { value: string; count: number }[], pool = true): VocabularySplit {
  const sorted = [...frequencies].sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
  if (!pool) return { kept: sorted.slice(0, MAX_CATEGORIES).map((x) => x.value), rare: null };
  const kept: string[] = [];
  const rare: string[] = [];
  let rows = 0;
  for (const x of sorted) {
    if (kept.length < MAX_CATEGORIES && x.count >= MIN_CATEGORY_ROWS) kept.push(x.value);
    else {
      rare.push(x.value);
      rows += x.count;
    }
  }
  return { kept, rare: rare.length > 0 ? { levels: rare, rows, minRows: MIN_CATEGORY_ROWS, cap: MAX_CATEGORIES } : null };
}

const EXAMPLES = 5;

/** The tail summary of one column from its split (levelsCapped: the counts stopped at a distinct-value cap). */
export function describeTail(column: string, split: VocabularySplit, levelsCapped = false): CategoryTail {
  const rare = split.rare;
  return {
    column,
    levels: split.kept.length + (rare?.levels.length ?? 0),
    levelsCapped,
    kept: split.kept.length,
    rareLevels: rare?.levels.length ?? 0,
    rareRows: rare?.rows ?? 0,
    rareExamples: rare?.levels.slice(0, EXAMPLES) ?? [],
    minRows: rare?.minRows ?? MIN_CATEGORY_ROWS,
    cap: rare?.cap ?? MAX_CATEGORIES,
  };
}

/** One line per column for people: "suburb: 254 of 350 levels kept; 96 seen in a single sale or beyond … (240 rows; …)". */
export function tailSentence(t: CategoryTail): string {
  const levels = `${t.levels}${t.levelsCapped ? '+' : ''}`;
  if (t.rareLevels === 0) return `${t.column}: all ${levels} levels kept (each has at least ${t.minRows} sales)`;
  const examples = t.rareExamples.map((e) => `"${e}"`).join(', ');
  return (
    `${t.column}: ${t.kept} of ${levels} levels kept; ${t.rareLevels} ${t.minRows === 2 ? 'seen in a single sale' : `with fewer than ${t.minRows} sales`}` +
    `${t.levels > t.cap ? ` or beyond the ${t.cap} most frequent` : ''} share one "other (rare)" code ` +
    `(${t.rareRows} rows; e.g. ${examples}${t.rareLevels > t.rareExamples.length ? ', …' : ''})`
  );
}
