// Test actor: one module that can echo, sleep, fail in several ways, crash, and ask a peer.
import { serveActor } from '../worker-host.js';
import { CofferError, type ErrorCode } from '../../errors.js';

export type EchoIn =
  | { t: 'echo'; v: unknown }
  | { t: 'sleep'; ms: number; v: unknown }
  | { t: 'fail'; code: ErrorCode; messages: string[] }
  | { t: 'boom' }
  | { t: 'exit' }
  | { t: 'throw-later' }
  | { t: 'bump' }
  | { t: 'count' }
  | { t: 'whoami' }
  | { t: 'ask-peer'; peer: string; m: EchoIn };

let bumps = 0;
let label = '';

serveActor<EchoIn, unknown>(
  async (msg, ctx) => {
    switch (msg.t) {
      case 'echo':
        return msg.v;
      case 'sleep':
        await new Promise((r) => setTimeout(r, msg.ms));
        return msg.v;
      case 'fail':
        throw new CofferError(msg.code, ...msg.messages);
      case 'boom':
        throw new Error('secret-ish detail that must not cross the ring');
      case 'exit':
        process.exit(3);
      case 'throw-later':
        setTimeout(() => {
          throw new Error('uncaught in a timer');
        }, 1);
        return 'armed';
      case 'bump':
        bumps++;
        return undefined;
      case 'count':
        return bumps;
      case 'whoami':
        return label;
      case 'ask-peer':
        return { via: label, answer: await ctx.peer<EchoIn, unknown>(msg.peer).ask(msg.m, 2000) };
    }
  },
  {
    init: async (ctx) => {
      label = String((ctx.workerData as { label?: string } | undefined)?.label ?? 'echo');
      await new Promise((r) => setTimeout(r, 5)); // an async init that READY must wait for
    },
  },
);
