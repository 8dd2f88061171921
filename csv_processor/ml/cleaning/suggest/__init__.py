"""SimpleCleanModel: a small decision tree that suggests one cleaning action per column."""
