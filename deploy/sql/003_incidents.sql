-- 003_incidents: stable identifiers of incidents, claims and claim events (name-based
-- UUIDs, version 5), so a batch applied again after a crash, or by another writer of
-- claim_outbox, gives the same ids.

CREATE EXTENSION IF NOT EXISTS "uuid-ossp";

-- One incident per NIK, type and local date (the de-duplication key of incidents).
CREATE FUNCTION incident_uuid(nik text, type text, local_date date) RETURNS uuid
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN uuid_generate_v5('e40e4d97-09ee-4135-ad76-5d2fc36b2c1b'::uuid,
                        nik || '|' || type || '|' || local_date::text);

-- One claim per incident.
CREATE FUNCTION claim_uuid(incident_id uuid) RETURNS uuid
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN uuid_generate_v5('db866175-7129-4e23-b346-b4588b4b6b50'::uuid, incident_id::text);

-- The event_id of a claim's ordinal-th transition (1 = OPENED) in claim_outbox.
CREATE FUNCTION claim_event_uuid(claim_id uuid, ordinal int) RETURNS uuid
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN uuid_generate_v5('ab923fa6-f4bb-4aff-89df-7c3c25679272'::uuid,
                        claim_id::text || '|' || ordinal::text);
