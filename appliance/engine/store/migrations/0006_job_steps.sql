-- The steps of jobs (those clients add to their external jobs, and end).
CREATE TABLE job_steps (id TEXT PRIMARY KEY, job_id TEXT NOT NULL, data TEXT NOT NULL);
CREATE INDEX job_steps_job ON job_steps (job_id)
