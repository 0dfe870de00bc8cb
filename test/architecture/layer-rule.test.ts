import { describe, expect, it } from 'vitest';
import { ESLint } from 'eslint';
import { join } from 'node:path';
import { repoRoot } from '../helpers/temp-workspace.js';

// The repo's own lint config, run on planted files: proves the layer rule in eslint.config.js bites (and that
// the imports it must allow still pass), so a config change that silently disables it fails here.
// The planted files exist only as text, so the type-aware rules (which need files of a TypeScript project) are
// turned off for them; the layer rule itself is the repo's, unchanged.
const eslint = new ESLint({
  cwd: repoRoot,
  overrideConfigFile: join(repoRoot, 'eslint.config.js'),
  overrideConfig: [
    {
      files: ['**/*.ts'],
      languageOptions: { parserOptions: { projectService: false } },
      rules: { '@typescript-eslint/no-floating-promises': 'off', '@typescript-eslint/no-misused-promises': 'off' },
    },
  ],
});

async function layerErrors(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(repoRoot, file) });
  const fatal = result.messages.find((m) => m.fatal);
  if (fatal) throw new Error(`lint could not parse ${file}: ${fatal.message}`);
  return result.messages.filter((m) => m.ruleId === 'boundaries/dependencies').map((m) => m.message);
}

describe('the layer rule', () => {
  it('refuses an import from a lower layer of core/ up into a higher one', async () => {
    const errors = await layerErrors(
      'core/models/planted.ts',
      "import type { ApiDispatcher } from '../api/dispatcher.js';\nexport type Planted = ApiDispatcher;\n",
    );
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('"core/models"');
    expect(errors[0]).toContain('"core/api"');
  });

  it('refuses a store importing its service layer and the Electron shell importing the CLI', async () => {
    expect(
      await layerErrors('core/datasets/planted.ts', "import type { DatasetService } from '../services/dataset-service.js';\nexport type P = DatasetService;\n"),
    ).toHaveLength(1);
    expect(
      await layerErrors(
        'electron/planted.ts',
        "import { registerServeCommand } from '../cli/commands/serve-command.js';\nexport const p = registerServeCommand;\n",
      ),
    ).toHaveLength(1);
  });

  it('keeps valuation below monitoring: valuation may not import the prediction log, monitoring may import valuation', async () => {
    expect(
      await layerErrors('core/valuation/planted.ts', "import type { PredictionLog } from '../monitoring/prediction-log.js';\nexport type P = PredictionLog;\n"),
    ).toHaveLength(1);
    expect(
      await layerErrors(
        'core/monitoring/planted.ts',
        "import type { PredictionSink } from '../valuation/prediction-sink.js';\nexport type P = PredictionSink;\n",
      ),
    ).toEqual([]);
  });

  it('allows imports that point inward', async () => {
    expect(
      await layerErrors(
        'core/api/planted.ts',
        "import { AppraiseError } from '../common/errors.js';\nimport type { ModelStore } from '../models/model-store.js';\nexport const p: [typeof AppraiseError, ModelStore | null] = [AppraiseError, null];\n",
      ),
    ).toEqual([]);
    expect(await layerErrors('cli/planted.ts', "import { createAppHost } from '../core/app/app-host.js';\nexport const p = createAppHost;\n")).toEqual([]);
  });
});
