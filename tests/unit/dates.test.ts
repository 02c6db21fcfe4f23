import { toIsoDate } from '../../functions/shared/core/dates';

describe('toIsoDate', () => {
  it.each([
    ['09-09-2022', '2022-09-09'],
    ['12-31-1999', '1999-12-31'],
    ['02-29-2024', '2024-02-29'],
    ['2022-09-09', '2022-09-09'],
    ['01-01-1900', '1900-01-01'],
  ])('reads %s as %s', (input, expected) => {
    expect(toIsoDate(input)).toBe(expected);
  });

  it.each([
    '02-30-2022',
    '02-29-2023',
    '13-01-2022',
    '00-10-2022',
    '04-31-2022',
    '2022-13-01',
    '12-31-1899',
    '9-9-2022',
    '09/09/2022',
    '2022-9-9',
    ' 09-09-2022',
    '',
  ])('refuses %j', (input) => {
    expect(toIsoDate(input)).toBeNull();
  });
});
