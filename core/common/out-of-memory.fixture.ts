// A worker that outgrows its heap limit (worker-task.test.ts): keeps strings until V8 gives up.
const kept: string[] = [];
for (let i = 0; ; i++) kept.push(`${i}`.padStart(1024, 'x'));
