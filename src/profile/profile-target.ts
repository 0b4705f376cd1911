// Opens a profile's target in-process, the way its `status` command line would (same URL, archive dir,
// --name, backend options from DUPL_PARAMS, credentials in the environment), for Lifeboat's own
// commands that read the collection (check, cost, the stale warning of status).
import { openTarget, type Target } from '../pipeline/target.js';
import { parseDuplicityArgv } from '../cli/duplicity-argv.js';
import { argvOf, duplicityInvocation } from './commands.js';
import type { ProfilePaths } from './locate.js';
import type { ProfileSettings } from './settings.js';

export interface ProfileTargetInput {
  paths: ProfilePaths;
  settings: ProfileSettings;
  /** the environment after sourcing the conf (credentials such as AWS_* live there) */
  env: Record<string, string>;
}

export async function openProfileTarget(profile: ProfileTargetInput, notice: (line: string) => void): Promise<Target> {
  const invocation = duplicityInvocation({ command: 'status', settings: profile.settings, paths: profile.paths, options: [], params: [] });
  const { options } = parseDuplicityArgv(argvOf(invocation));
  return openTarget(profile.settings.target.url, {
    archiveDir: options.archiveDir, name: options.name, sync: false, notice,
    backend: { env: { ...profile.env, ...invocation.env }, options: options.backendOptions },
  });
}
