import { inspect } from 'node:util';

/**
 * A value that must never reach a log, an error message or a Slack post. Printing, JSON
 * serialisation and util.inspect all render `<secret>`; only `reveal()` gives the value, so
 * every use is greppable.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return '<secret>';
  }

  toJSON(): string {
    return '<secret>';
  }

  [inspect.custom](): string {
    return '<secret>';
  }
}
