import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { commandGroup } from '../command-group.js';
import { DvxError } from '../../errors/index.js';
import { buildPlugin } from '../../operations/toolchain/index.js';
import { stopEmbeddedRedis } from '../../model/embedded-redis.js';
import { resolveDataDir } from '../data-dir.js';
import { EngineClient } from '../engine-client.js';
import { packageRoot } from '../package-info.js';
import { listenOption, parseListen } from './engine-start.js';
import { ensureBackgroundEngine, stopBackgroundEngine } from '../quickstart/background-engine.js';
import { startLocalSshds, stopLocalSshds } from '../quickstart/local-sshd.js';
import { writeSampleData } from '../quickstart/sample-data.js';
import { DIRTREE_TOUR_PLUGIN } from '../quickstart/tour-plugins.js';
import { runTour } from '../quickstart/tour.js';

const HOST_NAMES = ['qs-source', 'qs-staging', 'qs-target'];

/** `dvx quickstart`: the engine, three local hosts and the dirtree tour, then the engine stays up for you. */
export function registerQuickstart(program: Command): void {
  commandGroup(program, 'quickstart')
    .option(
      '--stop',
      'stop what an earlier quickstart left running (the background engine, its embedded Redis, the local hosts); data and mounts stay',
    )
    .addOption(listenOption())
    .action(async function (this: Command) {
      const options = this.optsWithGlobals<{ dataDir?: string; json?: boolean; stop?: boolean; listen: string }>();
      const dataDir = resolveDataDir(options.dataDir);
      const say = (line: string) => process.stdout.write(`${line}\n`);
      if (options.stop) {
        await stopLocalSshds(join(dataDir, 'quickstart', 'hosts'), HOST_NAMES);
        const pid = await stopBackgroundEngine(dataDir);
        // The engine leaves its embedded Redis running for the next start; --stop means everything.
        const redisStopped = await stopEmbeddedRedis(dataDir);
        say(
          `${pid ? `stopped the engine (pid ${pid})` : 'no engine was running'}${redisStopped ? ', its embedded Redis' : ''} and the local hosts`,
        );
        return;
      }
      const listen = parseListen(options.listen);
      const engine = await ensureBackgroundEngine(dataDir, { listen: `${listen.host}:${listen.port}` });
      say(
        `engine ${engine.started ? 'started' : 'already running'}: ${engine.info.url} (pid ${engine.info.pid}, log ${engine.logFile})`,
      );
      if (!engine.started && new URL(engine.info.url).port !== String(listen.port))
        say(
          `  (not on ${options.listen}: that is where an engine started now would listen; dvx quickstart --stop first)`,
        );
      const work = join(dataDir, 'quickstart');
      const { hosts, clientKeyPath } = await startLocalSshds(join(work, 'hosts'), HOST_NAMES);
      say(`local hosts: ${hosts.map((host) => `${host.name} 127.0.0.1:${host.port}`).join(', ')}`);
      const built = await buildPlugin({
        dir: join(packageRoot(), 'plugins', 'dirtree'),
        out: join(work, 'dirtree-artifact.json'),
        writeTypes: false,
      });
      say(`built plugin dirtree: ${built.artifactPath}`);
      const prefix = `tour-${new Date().toISOString().slice(11, 19).replace(/:/g, '')}`;
      const [source, staging, target] = hosts;
      if (!source || !staging || !target)
        throw new DvxError({
          code: 'INTERNAL',
          message: `Started ${hosts.length} local hosts, not ${HOST_NAMES.length}.`,
        });
      const sourceDir = join(source.home, 'datasets', prefix);
      await writeSampleData(sourceDir);
      const privateKey = await readFile(clientKeyPath, 'utf8');
      const host = (started: { name: string; port: number }) => ({
        name: started.name,
        host: '127.0.0.1',
        port: started.port,
        user: 'root',
        privateKey,
      });
      const client = await EngineClient.connect({ dataDir });
      say(`\ntour (${prefix}):`);
      const report = await runTour({
        client,
        plugin: { ...DIRTREE_TOUR_PLUGIN, artifactPath: built.artifactPath },
        hosts: { source: host(source), staging: host(staging), target: host(target) },
        sourceDir,
        workDir: join(work, 'mnt'),
        prefix,
        log: (line) => say(`  ${line}`),
      });
      const play = `${prefix}-play`;
      const mountPath = join(work, 'mnt', play);
      const answer = await client.post<{ run: { id: string } }>('/vdbs', {
        name: play,
        source: report.dsource.id,
        environment: 'qs-target',
        parameters: DIRTREE_TOUR_PLUGIN.vdbParameters(mountPath),
      });
      say(`\nThe engine is still running. Provisioning ${play} at ${mountPath} for you to try (run ${answer.run.id}).`);
      say('Go on with, for example:');
      for (const line of [
        'dvx dsource list',
        `dvx run watch ${answer.run.id}`,
        'dvx vdb list',
        `dvx vdb snapshot ${play} --wait`,
        `dvx snapshot list --of ${play}`,
        `dvx dsource sync ${report.dsource.name} --wait`,
        `dvx vdb refresh ${play} --wait`,
        'dvx run list',
        'dvx quickstart --stop',
      ])
        say(`  npx dvx ${options.dataDir ? `--data-dir ${dataDir} ` : ''}${line.replace(/^dvx /, '')}`);
    });
}
