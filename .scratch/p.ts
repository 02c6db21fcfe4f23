import { parseParameterOverrides } from '../local/cloudformation/parameters';
console.log(parseParameterOverrides('ThrottlingRateLimit=1000 ThrottlingBurstLimit=2000 StageName="v 2" X=\'a b\''));
console.log(parseParameterOverrides('ParameterKey=A,ParameterValue=1 ParameterKey=B,ParameterValue="x y"'));
console.log(parseParameterOverrides(['A=1', 'B=2']));
try {
  parseParameterOverrides('nonsense');
} catch (e) {
  console.log((e as Error).message);
}
