import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { down, portVariables, stackSettings, up, type StackSettings } from '@lookout/native-stack';
import { freePort } from '@lookout/testkit';


/** The whole native stack on free loopback ports and a temporary data directory, started as `npm run stack:up` does. */
export async function startStack(options: { loadgenRate?: number } = {}): Promise<StackSettings> {
  const env: NodeJS.ProcessEnv = {
    LOOKOUT_DATA_DIR: await mkdtemp(path.join(tmpdir(), 'lookout-stack-')),
    LOADGEN_RATE: String(options.loadgenRate ?? 5),
  };
  const taken = new Set<number>();
  for (const name of portVariables()) {
    let port = await freePort();
    while (taken.has(port)) port = await freePort();
    taken.add(port);
    env[name] = String(port);
  }
  const settings = stackSettings(env);
  await up(settings, { log: (line) => process.stderr.write(`# ${line}\n`) });
  return settings;
}

export async function stopStack(settings: StackSettings | undefined): Promise<void> {
  if (settings === undefined) return;
  await down(settings, () => undefined);
  await rm(settings.dataDir, { recursive: true, force: true });
}
