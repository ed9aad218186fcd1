import Link from 'next/link';

const CARDS = [
  ['/classify', 'Classify', 'Upload an image or pick a sample: top-5 classes from the Fashion-MNIST and MNIST models.'],
  ['/detect', 'Detect', 'Boxes over the image; confidence and IoU sliders re-filter in the page.'],
  ['/segment', 'Segment', 'The U-Net’s mask over the image, with an opacity slider, a legend and per-class pixel share.'],
  ['/generate', 'Generate', 'A grid of DCGAN digits from a seed, and an interpolation strip between two seeds.'],
  ['/train', 'Train in the browser', 'A small CNN trains in this page on MNIST digits with the engine’s wasm kernels; then draw a digit.'],
  ['/reports', 'Reports', 'Model cards, COCO stats, per-class AP, PR curves, confusion matrices and training curves.'],
  ['/models', 'Models', 'What the server has loaded: task, size, backend, kernels, threads.'],
] as const;

export default function Home() {
  return (
    <div>
      <h1 className="mb-2 text-2xl font-semibold">Computer vision in TypeScript</h1>
      <p className="mb-6 max-w-3xl text-slate-700">
        Every answer on this site comes from the suite’s shipped models through the same Predictors as the command line — on the server (tfjs with oneDNN
        kernels) or, with the in-browser toggle, in this page (tfjs wasm).
      </p>
      <ul className="grid gap-4 sm:grid-cols-2 lg:grid-cols-3">
        {CARDS.map(([href, title, text]) => (
          <li key={href}>
            <Link href={href} className="block h-full rounded-lg border border-slate-200 bg-white p-4 shadow-sm hover:border-blue-400">
              <h2 className="font-semibold text-blue-800">{title}</h2>
              <p className="mt-1 text-sm text-slate-700">{text}</p>
            </Link>
          </li>
        ))}
      </ul>
    </div>
  );
}
