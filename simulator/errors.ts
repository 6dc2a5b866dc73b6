import { DriftwatchError } from '../common/errors.js';

/** The fleet simulator's error catalog (docs/errors.md, docs/simulator.md). */
export const SimErrorCode = {
  /** The scenario file has problems; every one is listed with its line and column. */
  ScenarioInvalid: 'DW_SIM_SCENARIO_INVALID',
  /** The scenario file is missing or cannot be read. */
  ScenarioUnreadable: 'DW_SIM_SCENARIO_UNREADABLE',
  /** The simulator's aggregator (a child process) failed to start or stopped during the run. */
  AggregatorFailed: 'DW_SIM_AGGREGATOR_FAILED',
  /** A simulated agent stopped with an error (its store could not be opened or written). */
  AgentFailed: 'DW_SIM_AGENT_FAILED',
  /** The run was interrupted (Ctrl-C) before the scenario's end; everything was stopped and cleaned up. */
  Interrupted: 'DW_SIM_INTERRUPTED',
} as const;

export type SimErrorCode = (typeof SimErrorCode)[keyof typeof SimErrorCode];

/** An error of the simulator's: `code` from SimErrorCode, a message saying what was expected and found. */
export class SimError extends DriftwatchError {
  declare readonly code: SimErrorCode;
  readonly problems: readonly string[];
  constructor(code: SimErrorCode, message: string, options: { problems?: readonly string[]; cause?: unknown } = {}) {
    super(code, message, options.cause === undefined ? {} : { cause: options.cause });
    this.name = 'SimError';
    this.problems = options.problems ?? [];
  }
}
