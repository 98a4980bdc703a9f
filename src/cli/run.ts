import { UserError } from '../util/duration';

export async function main(_argv: string[]): Promise<number> {
  throw new UserError('`earshot run` is not built yet');
}
