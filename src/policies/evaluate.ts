import { NO_CONTROLS, type RuntimeControls } from '../controls/types.js';
import type { Decision, Finding, GateTrailEntry } from '../core/types.js';
import { remediationRegistry } from '../remediations/index.js';
import { GATES } from './gates/index.js';
import type { GateContext } from './gates/types.js';
import { matchesAll } from './matchers.js';
import { renderTemplate } from './templates.js';
import {
  type Candidate,
  type CompiledRule,
  type Counters,
  counterKey,
  type PolicySnapshot,
  settingsOf,
} from './types.js';

export interface EvaluateOptions {
  /** A human approved this remediation; the worker re-evaluates with it after `vigil approve`. */
  readonly approved?: boolean;
  /** Run-time controls from Redis (pause, holds, silences, do-not-deploy memory); none when omitted. */
  readonly controls?: RuntimeControls;
}

/** A rule that matched a finding, with its rendered candidate or why rendering failed. */
export type RuleMatch =
  | { readonly rule: CompiledRule; readonly candidate: Candidate }
  | { readonly rule: CompiledRule; readonly error: string };

/** Whether a rule's `match` block selects the finding. Cleared findings never match. */
export function ruleMatches(rule: CompiledRule, finding: Finding): boolean {
  if (finding.metric !== rule.metric || finding.state === 'cleared') return false;
  if (!rule.state.includes(finding.state)) return false;
  if (rule.severity && !rule.severity.includes(finding.verdict.severity)) return false;
  if (rule.detector && !rule.detector.includes(finding.verdict.detector)) return false;
  if (!(finding.timestamp - finding.since >= rule.minDurationMs)) return false;
  return matchesAll(rule.labels, finding.labels);
}

/** Rules in file order; the first match wins unless it says `continue: true`. */
export function matchRules(finding: Finding, snapshot: PolicySnapshot): RuleMatch[] {
  const out: RuleMatch[] = [];
  for (const rule of snapshot.rules) {
    if (!ruleMatches(rule, finding)) continue;
    out.push(renderCandidate(rule, finding));
    if (!rule.continue) break;
  }
  return out;
}

/** The (kind, target) pairs a finding could trigger: what to read counters for before `evaluate`. */
export function candidatesFor(finding: Finding, snapshot: PolicySnapshot): Candidate[] {
  return matchRules(finding, snapshot).flatMap((match) => ('candidate' in match ? [match.candidate] : []));
}

function renderCandidate(rule: CompiledRule, finding: Finding): RuleMatch {
  const raw: Record<string, string> = {};
  for (const [key, template] of Object.entries(rule.params)) {
    const rendered = renderTemplate(template, finding);
    if ('error' in rendered) return { rule, error: `${key}: ${rendered.error}` };
    raw[key] = rendered.value;
  }
  // The params schema is the last line of defence: a label value can never become an argument
  // the remediation kind does not accept.
  const definition = remediationRegistry.get(rule.kind);
  const parsed = definition.params.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { rule, error: `${issue?.path.join('.') || 'params'}: ${issue?.message ?? 'invalid'}` };
  }
  return {
    rule,
    candidate: { rule, kind: rule.kind, target: definition.target(parsed.data), params: parsed.data },
  };
}

/**
 * Decides what to do about a finding: one Decision per matching rule (several only with
 * `continue: true`; exactly one "skip" when nothing matches). Pure and total: the same inputs
 * always give the same decisions, and no input makes it throw.
 */
export function evaluate(
  finding: Finding,
  snapshot: PolicySnapshot,
  now: number,
  counters: Counters,
  options: EvaluateOptions = {},
): Decision[] {
  if (finding.state === 'cleared') return [noRule(`finding ${finding.id} is cleared`)];
  const matched = matchRules(finding, snapshot);
  if (matched.length === 0) return [noRule(`no rule matches ${finding.series}`)];
  return matched.map((match) => {
    if ('error' in match) {
      return {
        action: 'skip',
        ruleId: match.rule.id,
        remediation: match.rule.kind,
        reason: oneLine(`rule ${match.rule.id} cannot build ${match.rule.kind} params: ${match.error}`),
        gates: [],
      };
    }
    return decide(finding, snapshot, now, counters, match.candidate, options);
  });
}

function decide(
  finding: Finding,
  snapshot: PolicySnapshot,
  now: number,
  counters: Counters,
  candidate: Candidate,
  options: EvaluateOptions,
): Decision {
  const context: GateContext = {
    finding,
    candidate,
    settings: settingsOf(snapshot, candidate.kind),
    snapshot,
    now,
    counters: counters.targets[counterKey(candidate.kind, candidate.target)],
    kindCounters: counters.kinds[candidate.kind],
    approved: options.approved === true,
    controls: options.controls ?? NO_CONTROLS,
  };
  const base = {
    ruleId: candidate.rule.id,
    remediation: candidate.kind,
    params: candidate.params,
    target: candidate.target,
  };
  const trail: GateTrailEntry[] = [];
  if (!Number.isFinite(now)) {
    return { ...base, action: 'skip', reason: `invalid evaluation time ${now}`, gates: trail };
  }
  for (const gate of GATES) {
    const { result, reason } = gate.check(context);
    trail.push({ gate: gate.name, result, reason: oneLine(reason) });
    if (result !== 'pass') return { ...base, action: result, reason: oneLine(reason), gates: trail };
  }
  return {
    ...base,
    action: 'act',
    reason: `run ${candidate.kind}/${candidate.target}: every gate passed`,
    gates: trail,
  };
}

function noRule(reason: string): Decision {
  return { action: 'skip', ruleId: null, reason: oneLine(reason), gates: [] };
}

/** Reasons are one line by contract: label values or YAML text must not break that. */
function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ');
}

/** `skip: cooldown for … [rule redeploy-drifted]`: the line logs, Slack and the CLI print. */
export function formatDecision(decision: Decision): string {
  const rule = decision.ruleId === null ? 'no rule' : `rule ${decision.ruleId}`;
  return `${decision.action}: ${decision.reason} [${rule}]`;
}
