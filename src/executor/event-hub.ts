/** The executor's typed events and their listeners (chat, status page, rolling): each gets its own copy of the job. */
import type { Logger } from 'pino';
import { cloneJson } from '../../store/clone-json';
import type { ExecutorEvent } from '../model';
import type { ExecutorListener } from './types';

export class EventHub {
  private readonly listeners = new Set<ExecutorListener>();

  constructor(private readonly log: Logger) {}

  on(listener: ExecutorListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: ExecutorEvent): void {
    const frozen = 'job' in event ? { ...event, job: cloneJson(event.job) } : event;
    for (const l of this.listeners) {
      try {
        l(frozen as ExecutorEvent);
      } catch (err) {
        this.log.error({ err, event: event.type }, 'executor listener failed');
      }
    }
  }
}
