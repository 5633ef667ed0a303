// fcgi doctor: checks of an uploaded app file, each problem with its fix (the CLI's `doctor`
// command and a bundle's `--check`); not part of any request path.
export { doctor, type DoctorOptions, type DoctorReport } from './doctor.js';
export type { ServerKind } from './runner.js';
export { formatFindings, hasProblem, type Finding, type Level } from './finding.js';
export { DOCTOR_USAGE, doctorCommand } from './command.js';
export { NEEDED_ADDRESS_SPACE_MIB } from './limits.js';
