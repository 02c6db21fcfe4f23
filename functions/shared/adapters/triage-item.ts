/**
 * The one conditional UpdateItem of a triage, as a request: no client here, so the bench sends the very same
 * request straight to the server as its raw baseline (bench/run.ts). triage-repository.ts sends it.
 */
import type { UpdateItemCommandInput } from '@aws-sdk/client-dynamodb';
import type { TriageUpdate } from '../core/triage';
import { conditionalUpdateInput } from './conditional-update';

/** Who triaged, as the finding records it: the certificate (subject, its CA's key when registered, serial) and the request. */
export interface TriageActor {
  subject: string;
  issuerKey?: string | undefined;
  serialNumber: string;
  requestId: string;
}

function updateExpression(
  update: TriageUpdate,
  actor: TriageActor,
  now: string,
): { expression: string; condition: string; names: Record<string, string>; values: Record<string, unknown> } {
  const names: Record<string, string> = {
    '#VulnID': 'VulnID',
    '#Workflow': 'Workflow',
    '#TriagedAt': 'TriagedAt',
    '#TriagedBy': 'TriagedBy',
    '#Version': 'Version',
    '#Justification': 'Justification',
    '#AcceptedUntil': 'AcceptedUntil',
  };
  const values: Record<string, unknown> = {
    ':workflow': update.workflow,
    ':now': now,
    ':actor': {
      subject: actor.subject,
      serialNumber: actor.serialNumber,
      requestId: actor.requestId,
      ...(actor.issuerKey ? { issuerKey: actor.issuerKey } : {}),
    },
    ':zero': 0,
    ':one': 1,
  };
  const sets = [
    '#Workflow = :workflow',
    '#TriagedAt = :now',
    '#TriagedBy = :actor',
    '#Version = if_not_exists(#Version, :zero) + :one',
  ];
  const removes: string[] = [];
  if (update.workflow === 'RISK_ACCEPTED') {
    values[':justification'] = update.justification;
    values[':acceptedUntil'] = update.acceptedUntil;
    sets.push('#Justification = :justification', '#AcceptedUntil = :acceptedUntil');
  } else {
    // Leaving RISK_ACCEPTED ends the acceptance: its justification and expiry go with it.
    removes.push('#Justification', '#AcceptedUntil');
  }
  if (update.note !== undefined) {
    names['#Note'] = 'Note';
    if (update.note === '') removes.push('#Note');
    else {
      values[':note'] = update.note;
      sets.push('#Note = :note');
    }
  }
  let condition = 'attribute_exists(#VulnID)';
  if (update.expectedVersion !== undefined) {
    values[':expectedVersion'] = update.expectedVersion;
    // A finding never written since versions exist reads as version 0.
    condition +=
      update.expectedVersion === 0
        ? ' AND NOT #Version > :expectedVersion' // absent or 0 (a Version is never negative); flat: condition.ts
        : ' AND #Version = :expectedVersion';
  }
  return {
    expression: `SET ${sets.join(', ')}${removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : ''}`,
    condition,
    names,
    values,
  };
}

/** The one conditional UpdateItem of a triage (also the bench's raw baseline: the same request, sent straight). */
export function triageUpdateInput(
  tableName: string,
  org: string,
  update: TriageUpdate,
  actor: TriageActor,
  now: Date,
): UpdateItemCommandInput {
  const { expression, condition, names, values } = updateExpression(update, actor, now.toISOString());
  return conditionalUpdateInput({
    tableName,
    key: { Org: org, VulnID: update.vulnId },
    update: expression,
    condition,
    names,
    values,
  });
}
