/** What every change to the in-memory state returns: a function that puts back exactly what it replaced. */
export type Undo = () => void;
