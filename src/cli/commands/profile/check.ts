// `lifeboat PROFILE check [--max-age 26h]`: one line for monitoring, and an exit code: 0 the newest
// complete backup is younger than the max age, 1 it is older or there is none, 255 the profile or
// the command line is wrong; a target that cannot be read exits with its own code (38, 50-53).
import type { ProfileCommand } from '../profile.js';
import { openProfileTarget } from '../../../profile/profile-target.js';
import { freshnessLine, freshnessOf, maxAgeOf } from '../../../schedule/freshness.js';
import { profileCommandArgs } from './options.js';

export const STALE_EXIT = 1;

const check: ProfileCommand = async (profile, ctx) => {
  const { values } = profileCommandArgs('check', profile.rest, { 'max-age': { type: 'string' } }, 0);
  const maxAge = maxAgeOf(values['max-age'], profile.conf.vars);
  const target = await openProfileTarget({ paths: profile.paths, settings: profile.settings, env: profile.conf.env }, profile.out.info);
  try {
    const freshness = freshnessOf(target.collection, maxAge, Math.floor(Date.now() / 1000));
    // monitoring reads one line on stdout, whatever VERBOSITY says
    ctx.out.result(`${freshnessLine(profile.paths.name, freshness)}\n`);
    return freshness.ok ? 0 : STALE_EXIT;
  } finally {
    await target.backend.close();
  }
};

export default check;
