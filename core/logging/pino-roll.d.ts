// pino-roll 4 ships no types. This declares the part logger.ts uses: the factory and the SonicBoom stream it
// resolves to (see node_modules/pino-roll/pino-roll.js and sonic-boom's index.js).
declare module 'pino-roll' {
  import type { EventEmitter } from 'node:events';

  export interface PinoRollOptions {
    /** Base path; pino-roll writes `<base>.<n>.<ext>` (`logs/appraise.log` → `logs/appraise.1.log`, …). */
    file: string;
    /** Bytes before a file rotates: a number is MB (fractions allowed), or a string like `'5m'`, `'512k'`. */
    size?: number | string;
    frequency?: 'daily' | 'hourly' | number;
    extension?: string;
    /** `count`: rotated files kept besides the current one; `removeOtherLogFiles`: prune files of other processes too. */
    limit?: { count: number; removeOtherLogFiles?: boolean };
    symlink?: boolean;
    dateFormat?: string;
    /** SonicBoom options. */
    mkdir?: boolean;
    sync?: boolean;
    minLength?: number;
  }

  export interface RollingStream extends EventEmitter {
    readonly fd: number;
    readonly file: string | null;
    readonly destroyed: boolean;
    write(data: string): boolean;
    flush(cb?: (err?: Error) => void): void;
    flushSync(): void;
    end(): void;
  }

  export default function pinoRoll(options: PinoRollOptions): Promise<RollingStream>;
}
