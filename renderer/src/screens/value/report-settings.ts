import type { ReportSettings } from '../../../../core/contract/contract.js';

export type { ReportSettings };
/** What a report prints from the settings (the stored fields, without who changed them when). */
export type ReportTexts = Pick<ReportSettings, 'assumptions' | 'certification' | 'roundTo' | 'appraiserName' | 'appraiserLicence'>;
