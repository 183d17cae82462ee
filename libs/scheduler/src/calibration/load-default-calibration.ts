// Named apart from default-calibration.json: Node resolves an extensionless './default-calibration' to the JSON first.
import defaultCalibrationJson from './default-calibration.json';
import { parseCalibration, type Calibration } from './calibration';

/** A fresh, validated copy of the shipped priors (callers may add models and GPU types to it). */
export function loadDefaultCalibration(): Calibration {
  return parseCalibration(structuredClone(defaultCalibrationJson));
}
