export { Ring, RingFrameTooLargeError, type RingOptions } from './ring.js';
export { RingOutbox } from './outbox.js';
export { RingInbox, type InboxHandlers } from './inbox.js';
