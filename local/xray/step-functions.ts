/**
 * An execution's segment, as Step Functions sends it with tracing enabled ("Trace Step Functions request
 * data in AWS X-Ray", https://docs.aws.amazon.com/step-functions/latest/dg/concepts-xray-tracing.html): one
 * segment named after the state machine (origin `AWS::StepFunctions::StateMachine`), continuing the caller's
 * trace header or starting a trace when there is none, with a subsegment per state entered (its name and
 * outcome; retries counted in `aws.retries`) and, inside a Task state, one `Lambda` subsegment per attempt,
 * whose id is the Parent of the trace header the function is invoked with.
 */
import type { StateMachine } from 'aws-local-stepfunctions';
import { formatTraceHeader, newSegmentId, newTraceId, parseTraceHeader } from './trace-header';
import type { SegmentDocument, SegmentSink } from './segment';

/** The library's event type, which it does not export by name. */
type EventLog = ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer Event> ? Event : never;

export interface ExecutionTraceTarget {
  stateMachineName: string;
  stateMachineArn: string;
  executionArn: string;
  traceHeader: string | undefined;
}

const seconds = (milliseconds = Date.now()) => milliseconds / 1000;

const failure = (type: string): Pick<SegmentDocument, 'error' | 'cause'> => ({
  error: true,
  cause: { exceptions: [{ id: newSegmentId(), type: type.slice(0, 100) }] },
});

export function traceExecution(sink: SegmentSink, target: ExecutionTraceTarget) {
  const incoming = parseTraceHeader(target.traceHeader);
  const traceId = incoming?.root ?? newTraceId();
  const segment: SegmentDocument = {
    name: target.stateMachineName,
    id: newSegmentId(),
    trace_id: traceId,
    start_time: seconds(),
    ...(incoming?.parent ? { parent_id: incoming.parent } : {}),
    origin: 'AWS::StepFunctions::StateMachine',
    resource_arn: target.stateMachineArn,
    aws: { execution_arn: target.executionArn },
  };
  sink.send({ ...segment, in_progress: true });
  const states: (SegmentDocument & { stateName: string })[] = [];
  const attempts: (SegmentDocument & { stateName: string })[] = [];
  const open = (name: string) => [...states].reverse().find((state) => state.stateName === name);

  /** Runs one attempt of a Task's Lambda invoke as a subsegment; `call` gets the trace header for the function. */
  async function taskAttempt<T>(
    stateName: string,
    functionName: string,
    call: (traceHeader: string) => Promise<T>,
  ): Promise<T> {
    const attempt = {
      stateName,
      name: 'Lambda',
      id: newSegmentId(),
      trace_id: traceId,
      start_time: seconds(),
      namespace: 'aws',
      aws: { operation: 'Invoke', function_name: functionName },
    } as SegmentDocument & { stateName: string };
    attempts.push(attempt);
    try {
      return await call(formatTraceHeader({ root: traceId, parent: attempt.id, sampled: true }));
    } catch (error) {
      Object.assign(attempt, failure((error as Error).name || 'Error'));
      throw error;
    } finally {
      attempt.end_time = seconds();
    }
  }

  function record(event: EventLog): void {
    if (!('state' in event) || 'parentState' in event) return;
    const name = event.state.name;
    if (event.type === 'StateEntered') {
      states.push({
        stateName: name,
        name,
        id: newSegmentId(),
        trace_id: traceId,
        start_time: seconds(event.timestamp),
        aws: { state_type: event.state.type },
      });
      return;
    }
    const state = open(name);
    if (!state) return;
    if (event.type === 'StateRetried') {
      state.aws = { ...state.aws, retries: event.retry.attempt };
      delete state.end_time;
      delete state.error;
      delete state.cause;
    } else if (event.type === 'StateFailed') {
      Object.assign(state, failure(event.Error), { end_time: seconds(event.timestamp) });
    } else if (event.type === 'StateExited' || event.type === 'StateCaught') {
      state.end_time ??= seconds(event.timestamp);
    }
  }

  /** Reads the execution's event log until it ends (bounded by the execution itself). */
  async function follow(events: AsyncGenerator<EventLog>): Promise<void> {
    for await (const event of events) record(event);
  }

  function end(status: 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT', error?: string): void {
    const now = seconds();
    const subsegments = states.map(({ stateName, trace_id: _traceId, ...state }): SegmentDocument => {
      const children = attempts
        .filter(
          (attempt) =>
            attempt.stateName === stateName &&
            attempt.start_time >= state.start_time &&
            attempt.start_time <= (state.end_time ?? now),
        )
        .map(({ stateName: _state, trace_id: _trace, ...attempt }) => attempt as SegmentDocument);
      return {
        ...state,
        end_time: state.end_time ?? now,
        ...(children.length > 0 ? { subsegments: children } : {}),
      } as SegmentDocument;
    });
    sink.send({
      ...segment,
      end_time: now,
      ...(status === 'SUCCEEDED'
        ? {}
        : { fault: true, cause: { exceptions: [{ id: newSegmentId(), type: (error ?? status).slice(0, 100) }] } }),
      ...(subsegments.length > 0 ? { subsegments } : {}),
    });
  }

  return { traceId, taskAttempt, follow, end };
}

export type ExecutionTrace = ReturnType<typeof traceExecution>;
