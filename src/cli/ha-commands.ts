// `fieldgate ha preview`: every Home Assistant discovery message the site file makes, exactly as
// the gateway publishes them (topic, then the JSON), and the devices left out with the reason.
import { drivers } from '../../drivers/index.js';
import { planDiscovery, discoveryMessages } from '../homeassistant/discovery.js';
import { packageVersion } from '../util/package-root.js';
import { println, type CliIo } from './io.js';
import { loadOrReport } from './site-commands.js';

export function haCommand(sub: string | undefined, file: string, io: CliIo): number {
  if (sub !== 'preview') {
    println(io.stderr, `fieldgate: unknown ha command '${sub ?? ''}' (there is: preview)`);
    return 64;
  }
  const site = loadOrReport(file, io);
  if (!site) return 1;
  // Previewing does not need discovery to be switched on yet: it shows what switching it on sends.
  const plan = planDiscovery(site, site.homeassistant?.prefix ?? 'homeassistant', {
    version: packageVersion(),
    valueType: (device, point) => drivers.find((d) => d.type === device.driver)?.valueType?.(device, point),
  });
  if (!site.homeassistant) println(io.stderr, 'note: homeassistant.enabled is not true in this site file; nothing is published until it is');
  for (const m of discoveryMessages(plan)) println(io.stdout, `${m.topic}\n${JSON.stringify(JSON.parse(m.payload), null, 2)}\n`);
  for (const s of plan.skipped) println(io.stderr, `warning: device '${s.device}' is left out of Home Assistant discovery: ${s.reason}`);
  return 0;
}
