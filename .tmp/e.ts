import { substituteEnvs, taskInfra, unusedSections } from '../protocol/task';
import { resourceCandidates } from '../protocol/task-resources';
console.log(substituteEnvs, taskInfra, unusedSections, resourceCandidates);
