import { isPackageName, isRequirement, normalizeName, requirementName } from './requirement';

describe('requirement validation', () => {
  it.each([['name'], ['name==1.0'], ['name>=1,<2'], ['Name_With-Dots.x[extra]==1.0'], ['pkg[a, b] ~= 1.4.5'], ['x===1.0.post1'], ['n!=2.*']])(
    'accepts %s',
    (value) => expect(isRequirement(value)).toBe(true),
  );

  it.each([
    ['-r x'], ['--index-url=http://evil'], ['git+https://github.com/a/b'], ['./pkg'], ['/tmp/x'], ['pkg @ https://example.com/p.whl'], [''],
    ['pkg; python_version<"3"'], ['pkg==1.0 --user'], ['a b'], ['pkg==1\n-r x'], ['file:///tmp/x.whl'], ['..'], ['pkg.whl/'],
  ])('rejects %j', (value) => expect(isRequirement(value)).toBe(false));

  it('names and normalizes', () => {
    expect(requirementName('Name_With-Dots.x[extra]==1.0')).toBe('Name_With-Dots.x');
    expect(normalizeName('Name_With-Dots.x')).toBe('name-with-dots-x');
    expect(isPackageName('requests')).toBe(true);
    expect(isPackageName('requests==1')).toBe(false);
    expect(isPackageName('-U')).toBe(false);
  });
});
