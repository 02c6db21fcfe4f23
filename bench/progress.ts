/** Progress of a bench phase: one line rewritten in place on a terminal, plain lines otherwise (CI logs, pipes). */
export interface Progress {
  phase(name: string, total: number): void;
  tick(): void;
  done(summary: string): void;
}

export function createProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  let name = '';
  let total = 0;
  let count = 0;
  let lastPrinted = 0;
  const tty = stream.isTTY === true;
  return {
    phase(next, size) {
      name = next;
      total = size;
      count = 0;
      lastPrinted = 0;
      stream.write(tty ? `${name}: 0/${total}` : `${name}: ${total} operations\n`);
    },
    tick() {
      count += 1;
      if (tty && (count === total || count - lastPrinted >= Math.max(1, Math.floor(total / 50)))) {
        lastPrinted = count;
        stream.write(`\r${name}: ${count}/${total}`);
      }
    },
    done(summary) {
      stream.write(tty ? `\r${name}: ${summary}\x1b[K\n` : `${name}: ${summary}\n`);
    },
  };
}
