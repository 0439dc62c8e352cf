/**
 * The 3-D scatter: every row as a sphere, the query as a larger one, its nearest neighbours
 * highlighted with lines from the query, axes, and orbit controls (drag to rotate, scroll to
 * zoom, right-drag to pan). three.js draws it; it renders only when something changed, so
 * an idle page costs no CPU.
 */
import {
  AmbientLight,
  BufferGeometry,
  Color,
  DirectionalLight,
  Float32BufferAttribute,
  GridHelper,
  InstancedMesh,
  LineBasicMaterial,
  LineSegments,
  Matrix4,
  Mesh,
  MeshStandardMaterial,
  PerspectiveCamera,
  Raycaster,
  Scene,
  SphereGeometry,
  Vector2,
  Vector3,
  WebGLRenderer,
} from 'three'
import { OrbitControls } from 'three/addons/controls/OrbitControls.js'
import { LineMaterial } from 'three/addons/lines/LineMaterial.js'
import { LineSegments2 } from 'three/addons/lines/LineSegments2.js'
import { LineSegmentsGeometry } from 'three/addons/lines/LineSegmentsGeometry.js'
import { CSS2DObject, CSS2DRenderer } from 'three/addons/renderers/CSS2DRenderer.js'
import type { Point3 } from './pca.ts'

/** A row's id: a number in `items`, text in a collection. */
export type PointId = number | string

/** What to draw. Coordinates are the data's own (or its PCA's); the scatter fits them to view. */
export interface ScatterData {
  /** `embedding` as numbers: bits as 0 and 1, sparse vectors written out. */
  points: { id: PointId; position: Point3; embedding: readonly number[] }[]
  /** The last search's query, if any. */
  query?: Point3
  /** The ids of the query's neighbours, nearest first. */
  neighbours: readonly PointId[]
  /** Names of the three axes, e.g. `x` or `PC1 · 41%`. */
  axes: [string, string, string]
  /** Whether the origin means something (raw coordinates: cosine distance is an angle from it). */
  showOrigin: boolean
}

const COLORS = {
  row: new Color('#7c8da6'),
  neighbour: new Color('#f59e0b'),
  query: new Color('#e11d48'),
  line: new Color('#f59e0b'),
  background: new Color('#fbfcfe'),
}

/** How many of the nearest neighbours get a label. */
const MAX_LABELS = 5

/** A scatter drawn into `container`; `show` replaces what it draws. */
export class Scatter {
  readonly #container: HTMLElement
  readonly #renderer: WebGLRenderer
  readonly #labels: CSS2DRenderer
  readonly #scene = new Scene()
  readonly #camera = new PerspectiveCamera(38, 1, 0.01, 100)
  readonly #controls: OrbitControls
  readonly #content = new Scene()
  readonly #tooltip: HTMLElement
  #instances: InstancedMesh | undefined
  #ids: PointId[] = []
  #embeddings: (readonly number[])[] = []
  #lineMaterial: LineMaterial | undefined
  #frame = 0
  readonly #resize: ResizeObserver

  /**
   * Creates the scatter. Throws if the browser has no WebGL; the page then says so.
   *
   * @example
   * const scatter = new Scatter(document.querySelector('#scatter')!)
   * scatter.show({ points, neighbours: [], axes: ['x', 'y', 'z'], showOrigin: true })
   */
  constructor(container: HTMLElement) {
    this.#container = container
    this.#renderer = new WebGLRenderer({ antialias: true })
    this.#renderer.setPixelRatio(globalThis.devicePixelRatio)
    this.#renderer.domElement.classList.add('scatter-canvas')
    this.#labels = new CSS2DRenderer()
    this.#labels.domElement.classList.add('scatter-labels')
    this.#tooltip = document.createElement('div')
    this.#tooltip.className = 'scatter-tooltip'
    this.#tooltip.hidden = true
    container.append(this.#renderer.domElement, this.#labels.domElement, this.#tooltip)

    this.#scene.background = COLORS.background
    this.#scene.add(new AmbientLight(0xffffff, 1.6))
    const sun = new DirectionalLight(0xffffff, 2.2)
    sun.position.set(2, -3, 5)
    this.#scene.add(sun, this.#content)

    // z up, as 3-D plots of data usually are; OrbitControls orbits around camera.up.
    this.#camera.up.set(0, 0, 1)
    this.#controls = new OrbitControls(this.#camera, this.#labels.domElement)
    this.#controls.minDistance = 0.5
    this.#controls.maxDistance = 20
    this.#controls.addEventListener('change', () => this.#requestRender())
    this.resetView()

    this.#labels.domElement.addEventListener('pointermove', (event) => this.#hover(event))
    this.#labels.domElement.addEventListener('pointerleave', () => (this.#tooltip.hidden = true))
    this.#resize = new ResizeObserver(() => this.#fit())
    this.#resize.observe(container)
    this.#fit()
  }

  /** Puts the camera back where it started. */
  resetView(): void {
    // matplotlib's default 3-D view: 30° up, 60° round from the x axis.
    this.#camera.position.set(2.4, -4.2, 2.7)
    // A little below the centre: the grid under the points needs the room.
    this.#controls.target.set(0, 0, -0.15)
    this.#controls.update()
    this.#requestRender()
  }

  /** Draws `data` in place of whatever was drawn. */
  show(data: ScatterData): void {
    this.#clear()
    const neighbourRank = new Map(data.neighbours.map((id, rank) => [id, rank]))
    const positions = data.points.map((point) => point.position)
    if (data.query) positions.push(data.query)
    if (data.showOrigin) positions.push([0, 0, 0])
    const toScene = fitToUnitCube(positions)

    const radius = data.points.length > 300 ? 0.018 : 0.032
    const sphere = new SphereGeometry(1, 20, 14)
    const instances = new InstancedMesh(
      sphere,
      new MeshStandardMaterial({ roughness: 0.55, metalness: 0.05 }),
      Math.max(data.points.length, 1),
    )
    instances.count = data.points.length
    const matrix = new Matrix4()
    data.points.forEach((point, index) => {
      const near = neighbourRank.has(point.id)
      const size = radius * (near ? 1.45 : 1)
      matrix.makeScale(size, size, size).setPosition(toScene(point.position))
      instances.setMatrixAt(index, matrix)
      instances.setColorAt(index, near ? COLORS.neighbour : COLORS.row)
    })
    this.#content.add(instances)
    this.#instances = instances
    this.#ids = data.points.map((point) => point.id)
    this.#embeddings = data.points.map((point) => point.embedding)

    const extent = new Vector3(-Infinity, -Infinity, -Infinity)
    for (const position of positions) extent.max(toScene(position))
    this.#drawAxes(data, toScene, extent)
    if (data.query) this.#drawQuery(data, toScene, radius)

    this.#container.dataset.points = String(data.points.length)
    this.#container.dataset.neighbours = String(
      data.points.filter((point) => neighbourRank.has(point.id)).length,
    )
    this.#container.dataset.query = data.query ? 'yes' : 'no'
    this.#requestRender()
  }

  /** Stops observing and frees the GPU's resources. */
  dispose(): void {
    this.#resize.disconnect()
    this.#clear()
    this.#controls.dispose()
    this.#renderer.dispose()
  }

  #drawQuery(data: ScatterData, toScene: (p: Point3) => Vector3, radius: number): void {
    const query = toScene(data.query!)
    const marker = new Mesh(
      new SphereGeometry(radius * 1.8, 24, 16),
      new MeshStandardMaterial({ color: COLORS.query, roughness: 0.4 }),
    )
    marker.position.copy(query)
    this.#content.add(marker)
    this.#content.add(label('query', 'label label-query', query))

    const byId = new Map(data.points.map((point) => [point.id, point]))
    const segments: number[] = []
    data.neighbours.forEach((id, rank) => {
      const point = byId.get(id)
      if (!point) return
      const at = toScene(point.position)
      segments.push(query.x, query.y, query.z, at.x, at.y, at.z)
      // Past the nearest few, labels only pile up on each other; the results table has them.
      if (rank < MAX_LABELS) {
        this.#content.add(label(`${rank + 1} · #${id}`, 'label label-neighbour', at))
      }
    })
    if (segments.length > 0) {
      const geometry = new LineSegmentsGeometry().setPositions(segments)
      this.#lineMaterial = new LineMaterial({ color: COLORS.line, linewidth: 2, transparent: true })
      this.#lineMaterial.opacity = 0.9
      this.#lineMaterial.resolution.set(this.#container.clientWidth, this.#container.clientHeight)
      this.#content.add(new LineSegments2(geometry, this.#lineMaterial))
    }
  }

  #drawAxes(data: ScatterData, toScene: (p: Point3) => Vector3, extent: Vector3): void {
    // Raw coordinates: axes from the data's origin. PCA: from the mean, which is PCA's 0.
    const origin = toScene([0, 0, 0])
    const colors = ['#ef4444', '#22a06b', '#3b82f6'].map((hex) => new Color(hex))
    const positions: number[] = []
    const vertexColors: number[] = []
    for (let axis = 0; axis < 3; axis++) {
      // Each axis runs a little past the farthest point along it.
      const end = origin.clone()
      end.setComponent(
        axis,
        Math.max(extent.getComponent(axis), origin.getComponent(axis) + 0.3) + 0.15,
      )
      positions.push(origin.x, origin.y, origin.z, end.x, end.y, end.z)
      vertexColors.push(...colors[axis]!.toArray(), ...colors[axis]!.toArray())
      this.#content.add(label(data.axes[axis]!, 'label label-axis', end))
    }
    const geometry = new BufferGeometry()
    geometry.setAttribute('position', new Float32BufferAttribute(positions, 3))
    geometry.setAttribute('color', new Float32BufferAttribute(vertexColors, 3))
    this.#content.add(new LineSegments(geometry, new LineBasicMaterial({ vertexColors: true })))
    if (data.showOrigin) this.#content.add(label('0', 'label label-origin', origin))

    const grid = new GridHelper(2.4, 12, 0xd5dbe5, 0xe7ebf1)
    grid.rotation.x = Math.PI / 2
    grid.position.set(0, 0, -1.05)
    this.#content.add(grid)
  }

  #clear(): void {
    for (const child of [...this.#content.children]) {
      child.traverse((object) => {
        const disposable = object as { geometry?: { dispose(): void }; material?: unknown }
        disposable.geometry?.dispose()
        const material = disposable.material as { dispose?(): void } | undefined
        material?.dispose?.()
        // CSS2DObjects leave their element in the overlay unless it is removed.
        if (object instanceof CSS2DObject) object.element.remove()
      })
      this.#content.remove(child)
    }
    this.#instances = undefined
    this.#lineMaterial = undefined
  }

  #fit(): void {
    const width = Math.max(this.#container.clientWidth, 1)
    const height = Math.max(this.#container.clientHeight, 1)
    this.#renderer.setSize(width, height)
    this.#labels.setSize(width, height)
    this.#camera.aspect = width / height
    this.#camera.updateProjectionMatrix()
    this.#lineMaterial?.resolution.set(width, height)
    this.#requestRender()
  }

  #requestRender(): void {
    if (this.#frame) return
    this.#frame = requestAnimationFrame(() => {
      this.#frame = 0
      this.#renderer.render(this.#scene, this.#camera)
      this.#labels.render(this.#scene, this.#camera)
    })
  }

  #hover(event: PointerEvent): void {
    if (!this.#instances || event.buttons !== 0) return
    const bounds = this.#labels.domElement.getBoundingClientRect()
    const pointer = new Vector2(
      ((event.clientX - bounds.left) / bounds.width) * 2 - 1,
      -((event.clientY - bounds.top) / bounds.height) * 2 + 1,
    )
    const raycaster = new Raycaster()
    raycaster.setFromCamera(pointer, this.#camera)
    const [hit] = raycaster.intersectObject(this.#instances)
    if (hit?.instanceId === undefined) {
      this.#tooltip.hidden = true
      return
    }
    const embedding = this.#embeddings[hit.instanceId]!
    const shown =
      embedding.length > 6
        ? `[${embedding.slice(0, 6).join(', ')}, …]`
        : `[${embedding.join(', ')}]`
    this.#tooltip.textContent = `#${this.#ids[hit.instanceId]} ${shown}`
    this.#tooltip.style.left = `${event.clientX - bounds.left + 12}px`
    this.#tooltip.style.top = `${event.clientY - bounds.top + 12}px`
    this.#tooltip.hidden = false
  }
}

function label(text: string, className: string, at: Vector3): CSS2DObject {
  const element = document.createElement('span')
  element.className = className
  element.textContent = text
  const object = new CSS2DObject(element)
  object.position.copy(at)
  return object
}

/**
 * A map from data coordinates into the cube [-1, 1]³, one scale for all three axes so that
 * angles and distances keep their proportions.
 */
export function fitToUnitCube(positions: readonly Point3[]): (p: Point3) => Vector3 {
  const min = [Infinity, Infinity, Infinity]
  const max = [-Infinity, -Infinity, -Infinity]
  for (const position of positions) {
    for (let axis = 0; axis < 3; axis++) {
      min[axis] = Math.min(min[axis]!, position[axis]!)
      max[axis] = Math.max(max[axis]!, position[axis]!)
    }
  }
  if (positions.length === 0) return () => new Vector3()
  const centre = min.map((low, axis) => (low + max[axis]!) / 2)
  const half = Math.max(...min.map((low, axis) => (max[axis]! - low) / 2))
  const scale = half > 0 ? 1 / half : 1
  return (p) =>
    new Vector3(
      (p[0] - centre[0]!) * scale,
      (p[1] - centre[1]!) * scale,
      (p[2] - centre[2]!) * scale,
    )
}
