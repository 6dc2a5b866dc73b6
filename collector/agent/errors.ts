import { DriftwatchError } from '../../common/errors.js';

/** The agent's error catalog (docs/errors.md, docs/agent.md). */
export const AgentErrorCode = {
  /** The config file (or an env variable or flag over it) is not a valid agent config; every problem is listed. */
  ConfigInvalid: 'DW_AGENT_CONFIG_INVALID',
  /** The config file is missing or cannot be read. */
  ConfigUnreadable: 'DW_AGENT_CONFIG_UNREADABLE',
  /** The HTTP listener (`http.listen`) could not be bound. */
  HttpListenFailed: 'DW_AGENT_HTTP_LISTEN_FAILED',
} as const;

export type AgentErrorCode = (typeof AgentErrorCode)[keyof typeof AgentErrorCode];

/** An error of the agent's: `code` from AgentErrorCode, a message saying what was expected and found. */
export class AgentError extends DriftwatchError {
  declare readonly code: AgentErrorCode;
  /** For DW_AGENT_CONFIG_INVALID: one `path: what was expected, found …` line per problem. */
  readonly problems: readonly string[];
  constructor(code: AgentErrorCode, message: string, options: { problems?: readonly string[]; cause?: unknown } = {}) {
    super(code, message, options.cause === undefined ? {} : { cause: options.cause });
    this.name = 'AgentError';
    this.problems = options.problems ?? [];
  }
}
