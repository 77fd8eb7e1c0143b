// Which journal topics a replay request's `devices` / `points` stand for, from the devices'
// mappers as they are now. A batch device's readings share one message per poll, so naming one
// of its points selects the whole batch message (a replay sends rows as they were stored).
import type { DeviceMapper } from '../mapping/reading-mapper.js';
import type { ReplayTopics } from './replay-service.js';

export interface NamedMapper {
  name: string;
  mapper: Pick<DeviceMapper, 'points' | 'batchTopic'>;
}

export function replayTopicsOf(devices: () => Iterable<NamedMapper>): ReplayTopics {
  return {
    select(deviceNames, pointNames) {
      const all = [...devices()];
      const unknown: string[] = [];
      const chosen = deviceNames === undefined ? all : deviceNames.flatMap((n) => {
        const found = all.find((d) => d.name === n);
        if (!found) unknown.push(n);
        return found ? [found] : [];
      });
      const topics = new Set<string>();
      const seenPoints = new Set<string>();
      for (const d of chosen) {
        const batch = d.mapper.batchTopic;
        for (const [name, point] of d.mapper.points) {
          if (pointNames !== undefined && !pointNames.includes(name)) continue;
          seenPoints.add(name);
          topics.add(batch ?? point.topic);
        }
      }
      for (const p of pointNames ?? []) if (!seenPoints.has(p)) unknown.push(p);
      return { topics, unknown };
    },
  };
}
