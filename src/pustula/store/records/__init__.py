"""A subject's clinical records: study and enrolment, visits and scores, safety, the casebook."""
