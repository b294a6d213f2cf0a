/* codec_subjects: the catalog subjects of the codec's five record types, by the
 * record-name strategy (a record's full name, whatever topic carries it). Programs get
 * them through codec.h; codec_fields.c names each field table's subject with them.
 * Constants only. */
#ifndef CODEC_SUBJECTS_H
#define CODEC_SUBJECTS_H

#define CODEC_ROSTER_SUBJECT "id.bpjs.adhoc.RosterChange"
#define CODEC_INCIDENT_SUBJECT "id.bpjs.adhoc.Incident"
#define CODEC_CLAIM_SUBJECT "id.bpjs.adhoc.ClaimEvent"
#define CODEC_COVERAGE_SUBJECT "id.bpjs.adhoc.CoverageChange"
#define CODEC_INVOICE_SUBJECT "id.bpjs.adhoc.Invoice"

#endif
