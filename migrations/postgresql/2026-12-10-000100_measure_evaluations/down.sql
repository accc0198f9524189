DROP TABLE plan_evaluation_directions;
DROP TABLE measure_assessment_links;
DROP TABLE measure_assessment_events;
DROP TABLE measure_assessments;
DROP TABLE measure_evaluation_events;
DROP TABLE measure_evaluations;
