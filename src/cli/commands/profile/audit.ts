// `lifeboat PROFILE audit`: whether an attacker who takes this server can destroy the backups or lock
// the owner out of them (src/audit/run-audit.ts). One line a finding on stdout, a fix after every
// problem; exit 0 when nothing is wrong, 1 when something is, 255 when the profile is wrong.
import type { ProfileCommand } from '../profile.js';
import { auditProfile, formatFinding } from '../../../audit/run-audit.js';
import { profileCommandArgs } from './options.js';

export const AUDIT_PROBLEM_EXIT = 1;

const audit: ProfileCommand = async (profile, ctx) => {
  profileCommandArgs('audit', profile.rest, {}, 0);
  const findings = await auditProfile({ paths: profile.paths, settings: profile.settings, env: profile.conf.env, vars: profile.conf.vars }, { canary: true });
  ctx.out.result(`${findings.map(formatFinding).join('\n')}\n`);
  const problems = findings.filter((f) => f.level === 'problem').length;
  if (problems > 0) {
    ctx.writeStderr(`lifeboat: the audit of '${profile.paths.name}' found ${problems} problem${problems === 1 ? '' : 's'}: an attacker on this server could destroy the backups or keep you from them\nhint: see the PROBLEM lines above and docs/hardening.md\n`);
    return AUDIT_PROBLEM_EXIT;
  }
  return 0;
};

export default audit;
