"""Case workflow: staff actions on a report, the officers' queue, leaders' figures,
exports and map tiles. Services here take an AsyncSession and run without HTTP."""
